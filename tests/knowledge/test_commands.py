"""The CLI commands: ask, classify, kb check, eval questions (called through bot.cli.main)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_ask_json_on_topic(capsys):
    assert main(["ask", "--json", "can I run zero os on a vps and earn tft?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["on_topic"] is True
    assert out["entry"] in {"vm-farming", "rented-servers"}
    assert out["reply"] and "Sources:" in out["reply"] and len(out["reply"]) <= 1900
    assert out["reasons"]


def test_ask_json_off_topic(capsys):
    assert main(["ask", "--json", "how do I swap TFT to USDC?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {**out, "on_topic": False, "entry": None, "reply": None}


def test_ask_text_output(capsys):
    assert main(["ask", "is docker ok for a threefold farming node?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("on topic: yes, entry containers")
    assert "Docker, LXC" in out


def test_ask_stdin_binary(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe\x00\x81junk" * 100)))
    assert main(["ask", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["on_topic"] is False


def test_classify_keeps_order_and_broken_lines(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "a", "text": "vm farming possible??"}\n'
        b"not json\n"
        b"\n"
        b'{"id": 7}\n'
        b'["list"]\n'
        b'{"id": "b", "text": "wallet stuck at initializing"}\n'
        b"\xff\xfe binary\n"
    )
    assert main(["classify", str(src)]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 7
    assert rows[0] == {
        "id": "a",
        "on_topic": True,
        "entry": "vm-farming",
        "score": rows[0]["score"],
        "band": "sure",  # DESIGN.md: the model's band, and why (top features or a veto)
        "why": rows[0]["why"],
    }
    assert rows[0]["why"] and rows[5]["band"] == "off"
    assert [r.get("error") is not None for r in rows] == [False, True, True, True, True, False, True]
    assert rows[3]["id"] == 7
    assert rows[5]["id"] == "b" and rows[5]["on_topic"] is False
    assert "5 input line(s)" in captured.err


def test_classify_missing_file(capsys):
    assert main(["classify", "/nonexistent/file.jsonl"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_kb_check_ok_and_broken(capsys):
    assert main(["kb", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: 12 entries")
    assert main(["kb", "check", "--dir", str(FIXTURES / "kb_broken" / "long_answer")]) == 1
    out = capsys.readouterr().out
    assert "too-long.yaml:4: answer is" in out


def test_eval_questions(capsys):
    assert main(["eval", "questions", str(FIXTURES / "questions" / "posts.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and "F1" in out
    assert "false positives" in out and "false negatives" in out
    assert main(["eval", "questions", "--json", str(FIXTURES / "questions" / "posts.jsonl")]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["tp"] + figures["fn"] == 59
    assert figures["precision"] >= 0.95


def test_eval_questions_reports_misses(tmp_path, capsys):
    f = tmp_path / "l.jsonl"
    f.write_text(
        json.dumps({"id": "fn1", "text": "what's the weather", "label": "vm_farming"})
        + "\n"
        + json.dumps({"id": "tp1", "text": "can I farm with zos in a vm?", "label": "vm_farming"})
        + "\nbroken\n",
        encoding="utf-8",
    )
    assert main(["eval", "questions", str(f)]) == 0
    captured = capsys.readouterr()
    assert "fn1" in captured.out and "recall 0.500" in captured.out
    assert "line 3" in captured.err


@pytest.mark.parametrize("cmd", [["ask", "--json", "hi"], ["kb", "check"]])
def test_fast_commands_do_not_import_platform_code(cmd):
    code = (
        f"import sys; from bot.cli import main; main({cmd!r}); "
        "bad = [m for m in ('discord', 'pydiscourse', 'aiohttp', 'bot.core') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_broken_kb_stops_start_up(monkeypatch, capsys):
    import knowledge
    import knowledge.loader

    knowledge.default_kb.cache_clear()
    monkeypatch.setattr(knowledge.loader, "ENTRIES_DIR", FIXTURES / "kb_broken" / "bad_yaml")
    try:
        assert main(["ask", "--json", "vm farming?"]) == 2
        assert "broken.yaml:17: broken YAML" in capsys.readouterr().err
    finally:
        knowledge.default_kb.cache_clear()
