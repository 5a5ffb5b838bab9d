"""`farmhand kb check`: every problem at once on stdout, counts in words, exit 1; usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

import knowledge
from bot.cli import main

ENTRIES = Path(knowledge.__file__).resolve().parent / "entries"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A copy of two bundled entries that point only at each other."""
    d = tmp_path / "kb"
    d.mkdir()
    for name in ("vm-farming", "containers"):
        text = (ENTRIES / f"{name}.yaml").read_text(encoding="utf-8")
        head, _sep, _related = text.partition("\nrelated:")
        other = "containers" if name == "vm-farming" else "vm-farming"
        (d / f"{name}.yaml").write_text(f"{head}\nrelated: [{other}]\n", encoding="utf-8")
    return d


def test_a_good_kb_is_ok_in_words(kb, capsys):
    assert main(["kb", "check", "--dir", str(kb)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 2 entries, ") and out.rstrip().endswith(f" questions in {kb}")
    (kb / "containers.yaml").unlink()
    (kb / "vm-farming.yaml").write_text(
        (kb / "vm-farming.yaml").read_text(encoding="utf-8").replace("related: [containers]", "related: []"),
        encoding="utf-8",
    )
    assert main(["kb", "check", "--dir", str(kb)]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 entry, ")


def test_several_bad_entries_show_all_their_problems(kb, capsys):
    vm = kb / "vm-farming.yaml"
    vm.write_text(
        vm.read_text(encoding="utf-8").replace("questions:", "qestions:", 1) + "auto_reply: maybe\n",
        encoding="utf-8",
    )
    box = kb / "containers.yaml"
    box.write_text(
        box.read_text(encoding="utf-8").replace("title: ", "title: 12 #", 1) + "title: again\n",
        encoding="utf-8",
    )
    assert main(["kb", "check", "--dir", str(kb)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "'title' must be a string, got a number (put it in quotes)",
        "duplicate key 'title' (first on line 2); keep one",
        "unknown field 'qestions'; did you mean `questions`?",
        "'auto_reply' must be true or false, got a string",
    ]
    assert lines[0].startswith(f"{box}:2: ") and lines[2].startswith(f"{vm}:")
    assert captured.err == f"4 problems in {kb} (2 of 2 entry files)\n"


def test_one_problem_is_singular(kb, capsys):
    (kb / "extra.yaml").write_text("- a list\n", encoding="utf-8")
    assert main(["kb", "check", "--dir", str(kb)]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"{kb / 'extra.yaml'}:1: an entry must be a mapping of fields (id, title, ...), got a list\n"
    )
    assert captured.err == f"1 problem in {kb} (1 of 3 entry files)\n"


def test_broken_yaml_is_one_line_and_the_other_files_are_still_checked(kb, capsys):
    (kb / "broken.yaml").write_text("id: broken\ntitle: [unclosed\nshort: x\n", encoding="utf-8")
    (kb / "containers.yaml").write_text(
        (kb / "containers.yaml").read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8"
    )
    assert main(["kb", "check", "--dir", str(kb)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{kb / 'broken.yaml'}:3: broken YAML: ")
    assert "(while parsing a flow sequence from line 2)" in out[0]
    assert out[1].startswith(f"{kb / 'containers.yaml'}:") and "unknown field 'colour'" in out[1]


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda d: d / "missing", "no such file or directory"),
        (
            lambda d: d / "kb" / "containers.yaml",
            "is a file, not a directory (give the folder that holds the entry files)",
        ),
        (lambda d: d / "empty", "no entry files (*.yaml) in it"),
    ],
)
def test_a_directory_that_is_no_kb_is_a_usage_error(kb, tmp_path, capsys, make, why):
    (tmp_path / "empty").mkdir()
    path = make(tmp_path)
    assert main(["kb", "check", "--dir", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {path}: {why}\n"


def test_unreadable_and_binary_files_never_show_errno_or_a_traceback(kb, capsys):
    (kb / "junk.yaml").write_bytes(b"\x00\x01\x02\xff")
    (kb / "folder.yaml").mkdir()
    assert main(["kb", "check", "--dir", str(kb)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{kb / 'folder.yaml'}:1: cannot read: is a directory, not a file",
        f"{kb / 'junk.yaml'}:1: not a text file (binary data); an entry is a YAML text file",
    ]
    assert "Errno" not in captured.out + captured.err and "Traceback" not in captured.err


def test_the_bundled_kb_and_the_usage_exit_code_in_help(capsys):
    assert main(["kb", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: 12 entries, ")
    with pytest.raises(SystemExit) as exc:
        main(["kb", "check", "--no-such-option"])
    assert exc.value.code == 2
