"""The shipped prefilter_literals.json: what the matcher's patterns derive to, so that `ask`
and the bot start without parsing every pattern again."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import prefilter

ROOT = Path(__file__).resolve().parents[2]


def _pattern(key: str) -> re.Pattern[str]:
    flags, source = key.split("\x00", 1)
    return re.compile(source, int(flags) & ~re.UNICODE)


def test_shipped_file_is_what_a_fresh_derivation_gives():
    # In a fresh interpreter: deriving reloads the matcher's modules.
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from knowledge import literals; sys.stdout.write(literals.render(literals.derive()))"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
    ).stdout
    shipped = prefilter.LITERALS_PATH.read_text(encoding="utf-8")
    assert json.loads(out)["patterns"] == json.loads(shipped)["patterns"], "a pattern changed: run `python -m knowledge.literals`"


def test_every_shipped_answer_equals_the_derived_one():
    rows = json.loads(prefilter.LITERALS_PATH.read_text(encoding="utf-8"))["patterns"]
    assert len(rows) > 50
    for key, row in rows.items():
        p = _pattern(key)
        if "anchored" in row:
            got = prefilter._anchored_prefixes(p)
            assert (None if got is None else sorted([w, b] for w, b in got)) == row["anchored"], key
        if "required" in row:
            got = prefilter._required(p)
            assert (None if got is None else sorted(got)) == row["required"], key


def test_a_pattern_the_file_lacks_is_derived_on_the_spot():
    p = re.compile(r"\bzzyzx[- ]never[- ]shipped\b")
    assert prefilter._key(p) not in prefilter._shipped()
    assert prefilter.anchored_prefixes(p) == frozenset({("zzyzx", True)})
    assert prefilter.required(p) == frozenset({"shipped"})
    assert prefilter._derived[prefilter._key(p)]["anchored"] == [["zzyzx", True]]


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"python": "2.7", "patterns": {"32\x00x": {"anchored": [["x", False]]}}}),  # another Python
        "{not json",  # broken
    ],
    ids=["another-python", "broken"],
)
def test_a_file_that_does_not_fit_is_not_read(tmp_path, monkeypatch, content):
    other = tmp_path / "prefilter_literals.json"
    other.write_text(content, encoding="utf-8")
    monkeypatch.setattr(prefilter, "LITERALS_PATH", other)
    prefilter._shipped.cache_clear()
    try:
        assert prefilter._shipped() == {}
    finally:
        monkeypatch.undo()
        prefilter._shipped.cache_clear()
