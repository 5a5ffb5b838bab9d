"""The knowledge loader finds every problem of a KB at once, each one line in plain words."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import knowledge
from knowledge import KnowledgeError
from knowledge.loader import plural, read_file

# Each entry's questions spell its id four times, so two entries' questions are never near-duplicates.
QUESTIONS = "\n".join(f"  - can I farm in a vm, {{id}}{{id}}{{id}}{{id}} number {n}?" for n in range(1, 9))
GOOD = f"""id: {{id}}
title: Can I farm in a VM?
short: No, a VM earns nothing. Farm on bare metal.
answer: A virtualized node earns no farming rewards.
questions:
{QUESTIONS}
links:
  - title: Manual
    url: https://manual.grid.tf/farmers
"""


def _write(directory: Path, entry_id: str, text: str | None = None) -> Path:
    path = directory / f"{entry_id}.yaml"
    path.write_text(text if text is not None else GOOD.format(id=entry_id), encoding="utf-8")
    return path


def _only(problems: list[str], name: str) -> list[str]:
    return [p.split(": ", 1)[1] for p in problems if f"/{name}:" in p]


def test_a_good_entry_file_has_no_problem(tmp_path):
    _write(tmp_path, "good")
    assert knowledge.check(tmp_path) == []
    assert [e.id for e in knowledge.load(tmp_path).entries] == ["good"]


def test_every_bad_entry_and_every_bad_field_is_reported(tmp_path):
    _write(tmp_path, "good")
    _write(tmp_path, "one", GOOD.format(id="one").replace("title: Can I farm in a VM?", "title: 42"))
    _write(tmp_path, "two", GOOD.format(id="two").replace("answer: A virtualized", "answr: A virtualized"))
    three = GOOD.format(id="three").replace(
        "short: No, a VM earns nothing. Farm on bare metal.", "short: [a]"
    )
    _write(tmp_path, "three", three + "related: nope\nauto_reply: maybe\n")
    problems = knowledge.check(tmp_path)
    assert _only(problems, "good.yaml") == []
    assert _only(problems, "one.yaml") == ["'title' must be a string, got a number (put it in quotes)"]
    assert _only(problems, "two.yaml") == ["unknown field 'answr'; did you mean `answer`?"]
    assert _only(problems, "three.yaml") == [
        "'short' must be a string, got a list",
        "'related' must be a list of entry ids, got a string",
        "'auto_reply' must be true or false, got a string",
    ]
    with pytest.raises(KnowledgeError) as exc:
        knowledge.load(tmp_path)
    assert exc.value.problems == problems
    assert str(exc.value).endswith("(and 4 more problems; `farmhand kb check` lists them)")


def test_an_unknown_field_does_not_hide_the_other_bad_fields(tmp_path):
    text = GOOD.format(id="mixed").replace("questions:", "qestions:")
    text = text.replace("title: Can I farm in a VM?", "title:\n  - a list")
    text += "colour: blue\n"
    item, problems = read_file(_write(tmp_path, "mixed", text))
    messages = [p.split(": ", 1)[1] for p in problems]
    assert messages == [
        "'title' must be a string, got a list",
        "unknown field 'qestions'; did you mean `questions`?",
        "unknown field 'colour'; allowed: id, title, short, answer, questions, links, related, auto_reply",
    ]
    # the misspelt field already says what to rename: no second "missing field 'questions'"
    assert not any("missing field" in m for m in messages)
    assert item is not None and "title" not in item.clean and "answer" in item.clean


@pytest.mark.parametrize(
    ("field", "yaml_value", "words"),
    [
        ("title", "{a: b}", "'title' must be a string, got a mapping"),
        ("title", "true", "'title' must be a string, got true/false (put it in quotes)"),
        ("title", "2026-01-31", "'title' must be a string, got a date (put it in quotes)"),
        ("title", "", "'title' must be a string, got nothing"),
        ("title", "''", "'title' must not be empty"),
        ("questions", "{a: b}", "'questions' must be a list of strings, got a mapping"),
        ("questions", "just one", "'questions' must be a list of strings, got a string"),
        ("links", "https://x.org", "'links' must be a list of {title, url} mappings, got a string"),
        ("related", "7", "'related' must be a list of entry ids, got a number"),
    ],
)
def test_type_words(tmp_path, field, yaml_value, words):
    lines = [ln for ln in GOOD.format(id="typed").splitlines() if not ln.startswith(f"{field}:")]
    if field in ("questions", "links"):  # drop the block's items too
        start = next(i for i, ln in enumerate(GOOD.splitlines()) if ln.startswith(f"{field}:"))
        block = GOOD.format(id="typed").splitlines()
        end = next((i for i in range(start + 1, len(block)) if not block[i].startswith(" ")), len(block))
        lines = block[:start] + block[end:]
    text = "\n".join([*lines, f"{field}: {yaml_value}", ""])
    _item, problems = read_file(_write(tmp_path, "typed", text))
    assert [p.split(": ", 1)[1] for p in problems] == [words]


def test_bad_items_are_named_by_position_with_their_line(tmp_path):
    text = (
        GOOD.format(id="items")
        .replace("  - can I farm in a vm, itemsitemsitemsitems number 2?", "  - can I: farm in a vm?")
        .replace("    url: https://manual.grid.tf/farmers", "    uri: https://manual.grid.tf/farmers")
    )
    path = _write(tmp_path, "items", text + "related: [ok-id, 7]\n")
    _item, problems = read_file(path)
    assert problems == [
        f"{path}:7: question 2 must be a non-empty string, got a mapping "
        "(a ': ' inside it? put the question in quotes)",
        f"{path}:16: link 1: unknown key 'uri'; did you mean `url`?",
        f"{path}:17: related id 2 must be a string, got a number",
    ]


def test_a_duplicate_key_is_an_error_with_both_lines(tmp_path):
    path = _write(tmp_path, "twice", GOOD.format(id="twice") + "title: Another title\n")
    _item, problems = read_file(path)
    assert problems == [f"{path}:17: duplicate key 'title' (first on line 2); keep one"]
    link_twice = GOOD.format(id="twice").replace(
        "    url: https://manual.grid.tf/farmers", "    url: https://a.org\n    url: https://b.org"
    )
    _item, problems = read_file(_write(tmp_path, "twice", link_twice))
    assert problems == [f"{path}:17: duplicate key 'url' (first on line 16); keep one"]


def test_broken_yaml_is_one_line_naming_file_and_line(tmp_path):
    text = GOOD.format(id="broken").replace(
        "  - can I farm in a vm, brokenbrokenbrokenbroken number 3?", "  - [unclosed"
    )
    path = _write(tmp_path, "broken", text)
    _write(tmp_path, "other", GOOD.format(id="other").replace("title: Can I farm in a VM?", "title: 1"))
    problems = knowledge.check(tmp_path)
    assert problems[0] == (
        f"{path}:14: broken YAML: did not find expected ',' or ']' (while parsing a flow sequence from line 8)"
    )
    assert problems[1].endswith("other.yaml:2: 'title' must be a string, got a number (put it in quotes)")
    assert all("\n" not in p for p in problems)
    tabbed = _write(tmp_path, "tabbed", "id: tabbed\nquestions:\n\t- x\n")
    assert read_file(tabbed)[1] == [
        f"{tabbed}:3: broken YAML: found character that cannot start any token (a tab: indent with spaces)"
    ]


def test_unreadable_binary_directory_and_non_utf8_files_are_words_not_errno(tmp_path, monkeypatch):
    (tmp_path / "junk.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "latin.yaml").write_bytes(b"id: latin\ntitle: caf\xe9\n")
    (tmp_path / "folder.yaml").mkdir()
    _write(tmp_path, "locked")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.yaml":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    problems = knowledge.check(tmp_path)
    assert problems == [
        f"{tmp_path / 'folder.yaml'}:1: cannot read: is a directory, not a file",
        f"{tmp_path / 'junk.yaml'}:1: not a text file (binary data); an entry is a YAML text file",
        f"{tmp_path / 'latin.yaml'}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8",
        f"{tmp_path / 'locked.yaml'}:1: cannot read: permission denied",
    ]


def test_missing_directory_and_file_given_as_directory(tmp_path):
    assert knowledge.check(tmp_path / "nope") == [f"{tmp_path / 'nope'}: no such file or directory"]
    f = _write(tmp_path, "entry")
    assert knowledge.check(f) == [
        f"{f}: is a file, not a directory (give the folder that holds the entry files)"
    ]


def test_set_rules_still_see_entries_with_field_problems(tmp_path):
    _write(tmp_path, "alpha")
    dup = GOOD.format(id="alpha").replace("title: Can I farm in a VM?", "title: 7")
    _write(tmp_path, "beta", dup + "related: [nowhere]\n")
    messages = _only(knowledge.check(tmp_path), "beta.yaml")
    assert "id 'alpha' does not match the file name 'beta.yaml'" in messages
    assert any(m.startswith("duplicate id 'alpha'") for m in messages)
    assert "related id 'nowhere' is not an entry" in messages
    assert "'title' must be a string, got a number (put it in quotes)" in messages


def test_plurals():
    assert plural(1, "problem") == "1 problem"
    assert plural(3, "problem") == "3 problems"
    assert plural(0, "question") == "0 questions"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(2, "entry", "entries") == "2 entries"


def test_too_few_questions_in_words(tmp_path):
    text = GOOD.format(id="few").replace(QUESTIONS.format(id="few"), "  - can I farm in a vm?")
    _write(tmp_path, "few", text)
    assert _only(knowledge.check(tmp_path), "few.yaml") == ["only 1 question, at least 8 needed"]
    with pytest.raises(KnowledgeError) as exc:
        knowledge.load(tmp_path)
    assert "more problem" not in str(exc.value)
