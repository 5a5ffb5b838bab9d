"""kb check: every kind of problem is reported as file:line: message, and load() refuses it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import knowledge
from knowledge import KnowledgeError

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "kb_broken"
LINE = re.compile(r"^.+\.ya?ml:\d+: .+")

CASES = {
    "bad_yaml": ("broken.yaml:17:", "broken YAML"),
    "missing_field": ("no-answer.yaml:1:", "missing field 'answer'"),
    "dup_ids": ("beta.yaml:1:", "duplicate id 'alpha'"),
    "long_answer": ("too-long.yaml:4:", "more than 1900"),
    "dead_related": ("lonely.yaml:18:", "related id 'does-not-exist' is not an entry"),
    "near_dup": ("one.yaml:7:", "nearly duplicates"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_reports_file_and_line(case):
    where, what = CASES[case]
    problems = knowledge.check(BROKEN / case)
    assert problems, case
    assert all(LINE.match(p) for p in problems), problems
    assert any(where in p and what in p for p in problems), problems


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_refuses_broken_kb_at_start_up(case):
    _where, _what = CASES[case]
    with pytest.raises(KnowledgeError) as exc:
        knowledge.load(BROKEN / case)
    assert LINE.match(str(exc.value))


def _copy_bundled(tmp_path: Path) -> Path:
    src = Path(knowledge.__file__).parent / "entries"
    dst = tmp_path / "entries"
    shutil.copytree(src, dst)
    return dst


def test_too_few_questions_and_bad_short(tmp_path):
    d = _copy_bundled(tmp_path)
    f = d / "containers.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace("  - docker-compose for a farming node?\n", "")
    text = text.replace("  - my nas supports docker, can it be a threefold node?\n", "")
    text = re.sub(r"short: >-\n(  .*\n)+", "short: Just one sentence without the second\n", text, count=1)
    f.write_text(text, encoding="utf-8")
    problems = knowledge.check(d)
    joined = "\n".join(problems)
    assert "containers.yaml:" in joined
    assert "only 6 questions" in joined
    assert "'short' should be two sentences" in joined


def test_bad_link(tmp_path):
    d = _copy_bundled(tmp_path)
    f = d / "containers.yaml"
    text = f.read_text(encoding="utf-8").replace(
        "url: https://www2.manual.grid.tf", "url: ftp//manual.grid.tf", 1
    )
    f.write_text(text, encoding="utf-8")
    problems = knowledge.check(d)
    assert any("containers.yaml:31:" in p and "is not an http(s) URL" in p for p in problems), problems


def test_unknown_field_and_wrong_type(tmp_path):
    d = _copy_bundled(tmp_path)
    f = d / "why-efficiency.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "colour: blue\nauto_reply: maybe\n", encoding="utf-8")
    problems = knowledge.check(d)
    assert any("why-efficiency.yaml:" in p and "unknown field 'colour'" in p for p in problems)
    assert any("'auto_reply' must be true or false" in p for p in problems)


def test_not_a_mapping_and_empty_dir(tmp_path):
    (tmp_path / "list.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    problems = knowledge.check(tmp_path)
    assert problems == [
        f"{tmp_path / 'list.yaml'}:1: an entry must be a mapping of fields (id, title, ...), got a list"
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no entry files" in knowledge.check(empty)[0]


def test_binary_file_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "junk.yaml").write_bytes(b"\xff\xfe\x00garbage\x00\x01")
    problems = knowledge.check(tmp_path)
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 'junk.yaml'}:1:")
