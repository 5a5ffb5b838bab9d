"""Every figure in the README's measurements table names a command that runs from a fresh clone.

Each row's last column must hold a command whose files exist in the repository, or be marked
**needs ../shared** when it reads the shared data; the detector's held-out figure is re-run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _rows() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Measured accuracy and speed", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| what ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def _commands(cell: str) -> list[str]:
    return [c for c in re.findall(r"`([^`]+)`", cell) if c.startswith(("farmhand ", "python ", "for "))]


def test_every_row_has_a_command_and_its_files_exist_or_it_says_it_needs_shared():
    rows = _rows()
    assert len(rows) >= 12
    for what, _measured, _target, how in rows:
        commands = _commands(how)
        assert commands, f"{what!r}: no command in {how!r}"
        for cmd in commands:
            for word in shlex.split(cmd.replace("{,2,3}", "")):
                if "/" not in word or word.startswith(("-", "http")) or "*" in word:
                    continue  # not a path (an option, a URL, a glob such as --files' 'cases/[23]*')
                path = word.split("$s")[0] if "$s" in word else word
                if path.startswith("../shared/"):
                    assert "**needs ../shared**" in how, f"{what!r}: reads ../shared without saying so"
                    continue
                assert (ROOT / path).exists(), f"{what!r}: {path} is not in the repository"
        if "bench_matcher.py" in how and "dev set" in what:
            assert "**needs ../shared**" in how  # it reads shared/eval/questions-dev.jsonl


def test_the_detector_figure_on_the_written_sets_is_what_its_command_gives(capsys):
    (row,) = [r for r in _rows() if r[0].startswith("dump detector, pastes written for the tests")]
    assert "`for s in blind blind2 blind3;" in row[3], row[3]
    claimed = re.search(r"(\d+)/(\d+)", row[1])
    assert claimed, row[1]
    right = total = 0
    for s in ("blind", "blind2", "blind3"):
        assert main(["eval", "dumps", f"{ROOT}/tests/fixtures/{s}/MANIFEST.jsonl"]) == 0
        m = re.search(r"dumps: (\d+)  correct: (\d+)", capsys.readouterr().out)
        assert m
        total += int(m[1])
        right += int(m[2])
    assert (right, total) == (int(claimed[1]), int(claimed[2]))
