"""The real pastes the project ships (tests/fixtures/real-pastes): integrity, and floors.

`tune/` is development data. `holdout/` and `holdout2/` were each measured once, after the
rules were written (docs/detector.md); their floors are that measurement, so a change that
loses ground fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands.eval_dumps import evaluate

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "real-pastes"
# (right, bare-metal <-> virtual errors at most, exactly the truth) today: development figures
# (every set has been read), so a change that loses ground fails.
FLOORS = {
    "tune": (84, 0, 81),
    "holdout": (78, 2, 59),
    "holdout2": (74, 0, 61),
    "holdout3": (114, 0, 84),
    "holdout4": (101, 0, 63),
    # holdout5 was measured once, blind (52/111, exact 48, 1 bare-metal <-> virtual error),
    # then read: development data since.
    "holdout5": (83, 0, 79),
    # holdout6 was measured once, blind (90/120, exact 61, 2 bare-metal <-> virtual errors),
    # then read: development data since.
    "holdout6": (111, 1, 83),
    # holdout7 (204 pastes, three collectors) was measured once, blind, at its arrival:
    # 123/203 read (one NUL-separated environ file was refused as binary), exact 120,
    # 5 bare-metal <-> virtual errors; then its errors were read: development data since.
    "holdout7": (149, 0, 146),
    # holdout8 (116 pastes, two collectors, pastes as posted in threads about other bugs) was
    # measured once, blind, at the end of the fifth pass (45/116, 1 bare-metal <-> virtual
    # error); then its misses were read: development data since.
    "holdout8": (70, 0, 70),
    # holdout9 (317 pastes, two collectors, owners and sites a-l and m-z) was measured once,
    # blind, at its arrival (commit 6ee0a26: 219 right, exact 129, 3 errors). Then rules were
    # written after the first collector's half only (files 0xx-1xx, h9a); the second half (2xx-3xx,
    # h9b) was measured once more, blind (129/195, 3 errors); then its one new error was read and
    # fixed, so both halves are development data since (docs/detector.md); the eighth pass
    # read h9b's misses.
    "holdout9": (275, 1, 195),
    # holdout10 (242 pastes, two collectors, GitHub owners a-l: files 0xx-1xx, h10a; m-z:
    # 2xx-3xx, h10b) was measured once, blind, at its arrival (143/242 with the code of the
    # session before, 149/242 with the eighth pass's rules for holdout9); then h10a was read and
    # h10b measured once more, blind (89/130); both are development data since (h10b read after).
    "holdout10": (204, 0, 156),
    # holdout11 (197 pastes, two collectors, GitHub owners a-l: files 0xx-1xx, h11a; m-z:
    # 2xx-3xx, h11b; the manifest rebuilt from the threads by separate labellers) was measured
    # once, blind, at its arrival (122/197, 1 bare-metal <-> virtual error); then h11a was read
    # and h11b measured once more, blind (57/97, unchanged); h11b read after: development since.
    "holdout11": (139, 0, 110),
    # holdout12 (84 pastes, four collectors by repository owner) was measured once, blind, at its
    # arrival (57/84 at commit 72bc406, 0 bare-metal <-> virtual errors); then its one change
    # from the session's starting code was read: development data since.
    "holdout12": (58, 0, 47),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_manifest_cites_every_source(name):
    rows = [json.loads(x) for x in (HERE / name / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert rows
    for r in rows:
        assert (HERE / name / r["file"]).is_file(), r["file"]
        assert r["source"].startswith(("https://", "http://")), r["file"]
        assert r["why_truth_is_known"].strip(), r["file"]
        assert r["truth"] in r["accept"], r["file"]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_floors(name):
    f = evaluate(HERE / name / "MANIFEST.jsonl")
    right, errors, exact = FLOORS[name]
    assert f["correct"] >= right, f["misses"]
    assert f["bare_metal_virtual_errors"] <= errors
    assert f["strict_correct"] >= exact
