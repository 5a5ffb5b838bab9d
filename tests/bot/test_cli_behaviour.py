"""One behaviour for every command: stdin as `-`, bad lines, one-line errors, --json, sizes,
levels, --version, exit codes, examples in every --help, progress only on a terminal."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.inputs import parse_size

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"


def _farmhand(*args: str, stdin: str = "", **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, **kw
    )


# -- `-` as stdin, bad JSONL lines ----------------------------------------------------------


def test_replay_reads_stdin_and_skips_bad_lines_with_their_numbers():
    good = (EXPORTS / "posts.jsonl").read_text().splitlines()
    text = "\n".join([good[0], "{broken", good[1], "[1, 2]", *good[2:]]) + "\n"
    r = _farmhand("replay", "-", stdin=text)
    assert r.returncode == 1, r.stderr
    assert "# farmhand replay: stdin" in r.stdout and "posts the bot could auto-answer" in r.stdout
    err = r.stderr.splitlines()
    assert err[0].startswith("skipped stdin:2: not JSON (")
    assert err[1].startswith("skipped stdin:4: ")
    assert err[-1] == "2 bad lines skipped"
    assert "Traceback" not in r.stderr


def test_replay_json_counts_posts_and_names_bad_lines(tmp_path):
    export = tmp_path / "export.jsonl"
    export.write_text((EXPORTS / "posts.jsonl").read_text() + "not json\n")
    r = _farmhand("replay", str(export), "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["posts"] == 5 and doc["considered"] == 4 and doc["skipped"] == {"reply in a topic": 1}
    assert doc["bad_lines"] == [f"{export}:6: not JSON (Expecting value)"]
    assert {rec["item_id"] for rec in doc["records"]} == {"p1", "p2", "p3", "p5"}
    assert doc["records"][0]["at"] == "2024-05-01T12:00:00+00:00"
    assert "0.50" in doc["answered_at"]
    assert _farmhand("replay", str(EXPORTS / "posts.jsonl"), "--json").returncode == 0


def _manifest(tmp_path: Path, rows: list[str]) -> Path:
    (tmp_path / "vm.txt").write_text("Hypervisor vendor: KVM\nVirtualization type: full\n")
    m = tmp_path / "MANIFEST.jsonl"
    m.write_text("\n".join(rows) + "\n")
    return m


def test_eval_dumps_skips_bad_lines_and_unknown_truths_and_exits_1(tmp_path, capsys):
    m = _manifest(
        tmp_path,
        [
            '{"file": "vm.txt", "truth": "virtual"}',
            "{oops",
            '{"file": "vm.txt", "truth": "baremetal"}',
            '{"file": "gone.txt", "truth": "virtual"}',
            '{"truth": "virtual"}',
        ],
    )
    assert main(["eval", "dumps", str(m)]) == 1
    out, err = capsys.readouterr()
    assert "dumps: 1  correct: 1" in out
    lines = err.splitlines()
    assert lines[0].startswith(f"skipped {m}:2: not JSON")
    assert lines[1] == (
        f"skipped {m}:3: truth must be one of bare-metal, virtual, container, inconclusive, "
        "not 'baremetal'; did you mean 'bare-metal'?"
    )
    assert lines[2] == f'skipped {m}:5: no "file" (the dump\'s path, relative to the manifest)'
    assert lines[3] == f"skipped {m}:4: gone.txt: no such file or directory"
    assert lines[-1] == "4 bad lines skipped"


def test_eval_dumps_reads_stdin_relative_to_the_current_directory(tmp_path, monkeypatch, capsys):
    _manifest(tmp_path, [])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", _Stdin('{"file": "vm.txt", "truth": "virtual"}\n'))
    assert main(["eval", "dumps", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["correct"] == 1


def test_eval_dumps_counts_a_vocabulary_synonym_as_the_platform_named(tmp_path, capsys):
    (tmp_path / "ct.txt").write_text("$ lxc exec web1 -- cat /proc/1/environ\ncontainer=lxc\n")
    m = tmp_path / "MANIFEST.jsonl"
    m.write_text(
        '{"file": "ct.txt", "truth": "container", "hypervisor": "lxd"}\n'
        '{"file": "ct.txt", "truth": "container", "hypervisor": "podman"}\n'
    )
    assert main(["eval", "dumps", str(m), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    # LXD is `lxc` in the vocabulary; podman is another engine, which the paste does not name.
    assert (figures["platform_checked"], figures["platform_named"]) == (2, 1)


def test_eval_dumps_files_measures_one_part_of_a_set_and_refuses_a_glob_that_matches_none(tmp_path, capsys):
    (tmp_path / "a1.txt").write_text("Hypervisor vendor: KVM\n")
    (tmp_path / "b1.txt").write_text("hello\n")
    m = tmp_path / "MANIFEST.jsonl"
    m.write_text('{"file": "a1.txt", "truth": "virtual"}\n{"file": "b1.txt", "truth": "virtual"}\n')
    assert main(["eval", "dumps", str(m), "--files", "a*", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["total"], figures["correct"]) == (1, 1)
    assert main(["eval", "dumps", str(m), "--files", "z*"]) == 2
    assert "no dump's file matches 'z*'" in capsys.readouterr().err


class _Stdin:
    def __init__(self, text: str) -> None:
        import io

        self.buffer = io.BytesIO(text.encode())

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "{m}: no labelled dumps"),
        ("\n\n", "{m}: no labelled dumps"),
        ("{bad\n", "{m}: no labelled dumps (1 bad lines)"),
    ],
)
def test_eval_dumps_empty_or_unlabelled_manifest_is_a_one_line_error(tmp_path, capsys, content, message):
    m = tmp_path / "MANIFEST.jsonl"
    m.write_text(content)
    assert main(["eval", "dumps", str(m)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "error: " + message.format(m=m)


@pytest.mark.parametrize("cmd", [["eval", "dumps"], ["eval", "questions"], ["classify"], ["replay"], ["analyze"]])
def test_missing_and_directory_paths_are_one_line_errors_without_errno(tmp_path, capsys, cmd):
    for path, words in ((tmp_path / "absent.jsonl", "no such file"), (tmp_path, "directory")):
        code = main([*cmd, str(path)])
        err = capsys.readouterr().err
        if cmd == ["replay"] and path == tmp_path:
            words = "no .json or .jsonl files"
        assert code == 2, err
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
        assert "Errno" not in err and "Traceback" not in err


# -- a terminal with nothing piped ----------------------------------------------------------


def _on_pty(args: list[str], feed: bytes | None, *, stderr_tty: bool = False, timeout: float = 60) -> tuple[str, str, int]:
    """Run farmhand with stdin (or stderr) on a pseudo-terminal; returns (stdout, stderr, code)."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="100", TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        stdin=slave if not stderr_tty else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave if stderr_tty else subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    seen = b""
    if feed is not None and not stderr_tty:
        # Wait for the prompt on stderr? It goes to a pipe here; the paste goes to the terminal.
        time.sleep(0.5)
        os.write(master, feed + b"\n\x04")
    if stderr_tty:
        deadline = time.monotonic() + timeout  # keep reading: a full terminal buffer would block the child
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
    out, err = proc.communicate(timeout=timeout)
    os.close(master)
    return out.decode(), (seen if stderr_tty else err).decode(errors="replace"), proc.returncode


def test_analyze_on_a_terminal_says_paste_then_ctrl_d():
    # One Ctrl-D on an empty line ends the paste (not two, as a buffered read would need).
    out, err, code = _on_pty(["analyze"], b"Hypervisor vendor: KVM\nVirtualization type: full")
    assert code == 0, err
    assert "then press Ctrl-D on a new line" in err
    assert out.startswith("This is a virtual machine (KVM).")
    # piped: no hint
    r = _farmhand("analyze", stdin="Hypervisor vendor: KVM\n")
    assert r.returncode == 0 and "Ctrl-D" not in r.stderr


def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path):
    export = tmp_path / "many.jsonl"
    export.write_text(
        "".join(json.dumps({"id": f"p{i}", "text": f"question {i} about farming"}) + "\n" for i in range(300))
    )
    out, err, code = _on_pty(["replay", str(export)], None, stderr_tty=True)
    assert code == 0, err
    assert "replaying" in err and re.search(r"\d+/300", err)
    assert "\x1b" not in out and "replaying" not in out
    piped = _farmhand("replay", str(export))
    assert piped.returncode == 0
    assert "replaying" not in piped.stderr and "\x1b" not in piped.stderr + piped.stdout


def test_classify_on_a_terminal_says_paste_jsonl_then_ctrl_d():
    out, err, code = _on_pty(["classify"], b'{"id": "a", "text": "can I farm in a proxmox vm?"}')
    assert code == 0, err
    assert "Paste JSONL" in err and "then press Ctrl-D on a new line" in err
    assert json.loads(out.splitlines()[0])["id"] == "a"
    # piped: no hint, and the same output
    r = _farmhand("classify", stdin='{"id": "a", "text": "can I farm in a proxmox vm?"}\n')
    assert r.returncode == 0 and "Ctrl-D" not in r.stderr
    assert json.loads(r.stdout)["id"] == "a"


def test_ask_on_a_terminal_says_type_the_question_then_ctrl_d():
    out, err, code = _on_pty(["ask"], b"can I farm in a proxmox vm?")
    assert code == 0, err
    assert "Type or paste the question, then press Ctrl-D on a new line" in err
    assert out.startswith("on topic: p ")
    r = _farmhand("ask", stdin="can I farm in a proxmox vm?\n")
    assert r.returncode == 0 and "Ctrl-D" not in r.stderr and r.stdout.startswith("on topic: p ")


def _posts(tmp_path: Path, n: int, **extra: str) -> Path:
    f = tmp_path / "posts.jsonl"
    f.write_text(
        "".join(json.dumps({"id": f"p{i}", "text": f"question {i} about farming", **extra}) + "\n" for i in range(n))
    )
    return f


@pytest.mark.parametrize(
    ("args", "label"),
    [(["classify"], "classifying"), (["eval", "questions"], "matching posts")],
)
def test_classify_and_eval_questions_show_a_bar_only_when_stderr_is_a_terminal(tmp_path, args, label):
    posts = _posts(tmp_path, 300, label="other")
    out, err, code = _on_pty([*args, str(posts)], None, stderr_tty=True)
    assert code == 0, err
    assert label in err and re.search(r"\d+/300", err), err
    assert label not in out and "\x1b" not in out
    if args == ["classify"]:
        assert len(out.splitlines()) == 300 and json.loads(out.splitlines()[-1])["id"] == "p299"
    piped = _farmhand(*args, str(posts))
    assert piped.returncode == 0, piped.stderr
    assert label not in piped.stderr and "\x1b" not in piped.stderr + piped.stdout


# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"), [("10MB", 10 * 1024**2), ("512k", 512 * 1024), ("1.5 MiB", 1572864), ("2048", 2048)]
)
def test_sizes(text, size):
    assert parse_size(text) == size


def test_max_bytes_takes_units_and_bad_values_are_usage_errors(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("Hypervisor vendor: KVM\n" * 100)  # 2.3 KB
    assert main(["analyze", str(big), "--max-bytes", "1KB"]) == 2
    assert "larger than" in capsys.readouterr().err
    assert main(["analyze", str(big), "--max-bytes", "10MB"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(big), "--max-bytes", "ten"])
    assert exc.value.code == 2
    assert "expected a size like 10MB" in capsys.readouterr().err


def test_log_level_accepts_only_real_levels(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--log-level", "LOUD", "ask", "hello"])
    assert exc.value.code == 2
    assert "choose one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'" in capsys.readouterr().err
    assert build_parser().parse_args(["--log-level", "debug", "ask", "x"]).log_level == "DEBUG"


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert re.fullmatch(r"farmhand \d+\.\d+\.\d+\n", capsys.readouterr().out)


def _all_parsers(p: argparse.ArgumentParser, name: str = "farmhand"):
    yield name, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _all_parsers(sub, f"{name} {sub_name}")


def test_every_help_ends_with_two_or_three_examples():
    parsers = list(_all_parsers(build_parser()))
    assert len(parsers) == 19
    for name, p in parsers:
        text = p.format_help().rstrip("\n")
        tail = text.rsplit("\nexamples:\n", 1)
        assert len(tail) == 2, f"{name}: no examples"
        examples = tail[1].splitlines()
        assert 2 <= len(examples) <= 3, (name, examples)
        assert all(line.startswith("  ") and "farmhand" in line for line in examples), (name, examples)
    top = build_parser().format_help()
    assert "exit codes:" in top and "  2  usage" in top and "  1  runtime" in top


def test_a_huge_analyze_shows_a_spinner_on_a_terminal_only(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Hypervisor vendor: KVM\n" + "[    1.000000] usb 1-1: new device\n" * 40_000)
    out, err, code = _on_pty(["analyze", str(big)], None, stderr_tty=True)
    assert code == 0, err
    assert "reading the paste" in err and "reading the paste" not in out
    assert out.startswith("This is a virtual machine (KVM).")
    piped = _farmhand("analyze", str(big))
    assert piped.returncode == 0 and "reading the paste" not in piped.stderr


@pytest.mark.timeout(600)  # a real training run: 30 s on a fast machine, 80-120 s on a slow one
def test_train_tells_its_stages_on_a_terminal(tmp_path):
    out, err, code = _on_pty(["train", "--out", str(tmp_path / "m.json")], None, stderr_tty=True, timeout=540)
    assert code == 0, err
    assert "training" in err and "training" not in out.replace("wrote", "")
    assert out.startswith("wrote ") and (tmp_path / "m.json").is_file()
