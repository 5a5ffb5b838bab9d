"""The CLI commands: ask, classify, kb check, eval questions (called through bot.cli.main)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.scorer import default_model

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
    threshold = re.escape(f"{default_model().threshold:.2f}")
    assert re.match(rf"on topic: p [01]\.\d{{2,3}} ≥ threshold {threshold} \(band sure\), entry containers\n", out)
    assert "Docker, LXC" in out


def test_ask_off_topic_line_states_the_threshold(capsys):
    assert main(["ask", "how do I swap TFT to USDC?"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    threshold = re.escape(f"{default_model().threshold:.2f}")
    assert re.match(rf"on topic: no, p 0\.\d\d < threshold {threshold} \(band off\)", first), first


def test_ask_takes_the_question_unquoted(capsys):
    assert main(["ask", "--json", "can I farm in a vm"]) == 0
    quoted = json.loads(capsys.readouterr().out)
    assert main(["ask", "can", "I", "farm", "in", "a", "vm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == quoted
    assert quoted["on_topic"] is True and quoted["threshold"] == default_model().threshold


def test_ask_json_has_threshold_band_and_why(capsys):
    assert main(["ask", "--json", "just testing ZOS in a VM, not for farming"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"] == default_model().threshold and out["band"] == "off" and out["on_topic"] is False
    assert out["why"][0].startswith("veto: ") and len(out["why"]) <= 3  # the veto first, then features
    assert all(r.startswith("feature ") for r in out["why"][1:])
    assert set(out["why"]) <= set(out["reasons"])


@pytest.mark.parametrize(
    "question",
    [
        "can I farm in a vm",
        "Farming on Proxmox 7, my 3node shows virtualized",
        "Déjà farmé sur une VM Proxmox, mon 3node est marqué virtualisé",
        "just testing ZOS in a VM, not for farming",
        "how do I swap TFT to USDC?",
    ],
)
def test_ask_never_quotes_a_phrase_that_is_not_in_the_question(capsys, question):
    assert main(["ask", question]) == 0
    why = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  - ")]
    assert why
    quoted = [q for line in why for q in re.findall(r"“([^”]*)”|'([^']*)'", line)]
    for pair in quoted:
        phrase = pair[0] or pair[1]
        assert phrase in question, (phrase, why)
    assert not any("model p=" in line for line in why)


def test_ask_stdin_binary(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe\x00\x81junk" * 100)))
    assert main(["ask", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["on_topic"] is False


def test_classify_keeps_order_and_names_bad_lines_on_stderr(tmp_path, capsys):
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
    assert main(["classify", str(src)]) == 1  # bad lines make the exit code 1, as in every JSONL reader
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]  # one line per good input, in input order
    assert rows[0] == {
        "id": "a",
        "on_topic": True,
        "entry": "vm-farming",
        "score": rows[0]["score"],
        "band": "sure",  # DESIGN.md: the model's band, and why (top features or a veto)
        "why": rows[0]["why"],
    }
    assert rows[0]["why"] and rows[1]["band"] == "off" and rows[1]["on_topic"] is False
    assert captured.err.splitlines() == [
        f"skipped {src}:2: not JSON (Expecting value)",
        f'skipped {src}:4: no "text" (the post, a string)',
        f"skipped {src}:5: not a JSON object (a list)",
        f"skipped {src}:7: not JSON (Expecting value)",
        "4 bad lines skipped",
    ]


def test_classify_all_good_lines_exit_0_and_one_bad_line_is_singular(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "farming on a vps?"}\n')
    assert main(["classify", str(src)]) == 0
    assert capsys.readouterr().err == ""
    src.write_text('{"id": 1, "text": "farming on a vps?"}\n{"id": 2, "text": 5}\n')
    assert main(["classify", str(src)]) == 1
    assert capsys.readouterr().err.endswith("\n1 bad line skipped\n")


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
    assert main(["eval", "questions", str(f)]) == 1  # a bad line was skipped
    captured = capsys.readouterr()
    assert "fn1" in captured.out and "recall 0.500" in captured.out
    assert f"skipped {f}:3: not JSON" in captured.err


class _Stdin:
    def __init__(self, text: str) -> None:
        self.buffer = io.BytesIO(text.encode())

    def isatty(self) -> bool:
        return False


def _post(label, text="can I farm with zos in a vm?", **kw) -> str:
    return json.dumps({"text": text, "label": label, **kw})


def test_eval_questions_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(_post("vm_farming", id="s1") + "\n"))
    assert main(["eval", "questions", "-", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["tp"] + figures["fn"] == 1 and figures["errors"] == []


def test_eval_questions_skips_bad_lines_with_numbers_counts_them_and_exits_1(tmp_path, capsys):
    f = tmp_path / "l.jsonl"
    lines = [
        _post("vm_farming", id="a"),
        "{broken",
        _post("yes", id="b"),
        json.dumps({"id": "c", "text": "wallet stuck"}),
        _post("vm-farming", id="d"),
        '["a list"]',
        _post("other", text="how do I swap TFT?", id="e"),
    ]
    f.write_text("\n".join(lines) + "\n")
    assert main(["eval", "questions", str(f), "--json"]) == 1
    out, err = capsys.readouterr()
    figures = json.loads(out)
    # Only the two good lines are scored: "yes" is not silently counted as "other".
    assert figures["tp"] + figures["fn"] == 1 and figures["fp"] + figures["tn"] == 1
    assert err.splitlines() == [
        f"skipped {f}:2: not JSON (Expecting property name enclosed in double quotes)",
        f'skipped {f}:3: label must be vm_farming or other, not "yes"',
        f'skipped {f}:4: no "label" (vm_farming or other)',
        f"skipped {f}:5: label must be vm_farming or other, not \"vm-farming\"; did you mean 'vm_farming'?",
        f"skipped {f}:6: not a JSON object (a list)",
        "5 bad lines skipped",
    ]
    assert figures["errors"] == [line.removeprefix("skipped ") for line in err.splitlines()[:-1]]
    assert main(["eval", "questions", str(f)]) == 1
    assert "posts: 2 " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "{f}: no labelled posts (the file is empty)"),
        ("\n  \n", "{f}: no labelled posts (the file is empty)"),
        (
            _post("yes") + "\n",
            'no labelled posts in {f}: {f}:1: label must be vm_farming or other, not "yes"',
        ),
        (
            json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n{x\n",
            'no labelled posts in {f}: {f}:1: no "label" (vm_farming or other) (and 2 more bad lines)',
        ),
        (
            json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n",
            'no labelled posts in {f}: {f}:1: no "label" (vm_farming or other) (and 1 more bad line)',
        ),
    ],
)
def test_eval_questions_refuses_empty_or_unlabelled_files_in_one_line(tmp_path, capsys, content, message):
    f = tmp_path / "l.jsonl"
    f.write_text(content)
    assert main(["eval", "questions", str(f)]) == 2
    out, err = capsys.readouterr()
    assert err == "error: " + message.format(f=f) + "\n"
    assert out == ""  # never a perfect score on nothing


def test_eval_questions_missing_or_directory_path_is_one_line(tmp_path, capsys):
    for path, words in (
        (tmp_path / "absent.jsonl", "no such file or directory"),
        (tmp_path, "is a directory"),
    ):
        assert main(["eval", "questions", str(path)]) == 2
        out, err = capsys.readouterr()
        assert err.startswith(f"error: {path}: {words}") and err.count("\n") == 1, err
        assert out == "" and "Errno" not in err


def test_eval_questions_says_n_a_rather_than_a_perfect_ratio_over_nothing(tmp_path, capsys):
    f = tmp_path / "l.jsonl"
    f.write_text(_post("other", text="how do I swap TFT to USDC?") + "\n")
    assert main(["eval", "questions", str(f)]) == 0
    out = capsys.readouterr().out
    assert "precision n/a (nothing answered)  recall n/a (no vm_farming posts)  F1 n/a" in out
    assert "1.000" not in out


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


def test_ask_says_every_conjunction_of_the_model_in_words(capsys):
    from bot.commands.ask import _CONJUNCTION

    model = default_model()
    conjunctions = {f[2:] for f in model.gate_w if f.startswith("x|")}
    named = {c for c in conjunctions if not c.startswith(("combo:", "subject:"))}
    assert named <= set(_CONJUNCTION), named - set(_CONJUNCTION)
    assert main(["ask", "can I run a 3node in proxmox and still get rewards"]) == 0
    out = capsys.readouterr().out
    assert "same clause" in out and "near:" not in out
