"""Finding 13: a zero-byte state file is an error, not a first start; a zero-byte dump is "empty input"."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.state import StateError, Store
from detector import InputRefused, decode
from tests.bot.faults.conftest import ROOT, exit_of, start, write_config


def test_run_refuses_a_zero_byte_state_file_and_leaves_it_alone(forum, tmp_path):
    state = tmp_path / "state" / "state.sqlite3"
    state.parent.mkdir()
    state.write_bytes(b"")
    code, err = exit_of(start(write_config(tmp_path, forum.url), forum.api_key))
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "empty (0 bytes)" in lines[0], err
    assert state.stat().st_size == 0  # not silently turned into a fresh state that forgot opt-outs
    assert not [m for m, p, _s in forum.requests if p == "/posts.json"]


def test_store_refuses_zero_bytes_but_creates_a_missing_file_whole(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    with pytest.raises(StateError, match="empty"):
        Store(empty)
    fresh = Store(tmp_path / "sub" / "new.sqlite3")
    fresh.set_opt_out("discord", "7", True)
    fresh.close()
    assert (tmp_path / "sub" / "new.sqlite3").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "sub").iterdir() if p.name.startswith(".")) == []
    again = Store(tmp_path / "sub" / "new.sqlite3")
    assert again.is_opted_out("discord", "7")
    again.close()


def test_report_on_a_zero_byte_state_is_one_line(tmp_path):
    state = tmp_path / "state.sqlite3"
    state.write_bytes(b"")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state_path: {state}\nmode: shadow\n")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "-c", str(cfg)], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode != 0 and "empty (0 bytes)" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_analyze_cli_says_empty_input(tmp_path, data):
    dump = tmp_path / "dump.txt"
    dump.write_bytes(data)
    for args, stdin in ((["analyze", str(dump)], None), (["analyze", "-", "--json"], data)):
        out = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, input=stdin, capture_output=True
        )
        assert out.returncode == 2, out
        assert out.stderr.decode().strip() == "error: empty input (nothing to analyse)"
        assert b"INCONCLUSIVE" not in out.stdout and b"inconclusive" not in out.stdout


def test_an_empty_attachment_is_refused_as_empty_not_judged():
    with pytest.raises(InputRefused, match="empty input"):
        decode(b"")
    assert decode(b"lscpu\n") == "lscpu\n"
