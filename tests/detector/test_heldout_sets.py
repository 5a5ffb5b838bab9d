"""The detector on held-out pastes written by people who never saw it (tests/fixtures/blind*/).

Each set and its truth (MANIFEST.jsonl) were written before the detector ever ran on it;
its figures when it was new are recorded below and in docs/detector-blind-eval.md. All three
became development sets after their first measurement (their misses were fixed by general
changes, each class with its own fixtures); a new unseen set is needed for a fresh judgement.

The issue's floors for unseen pastes: no bare-metal <-> virtual error, >= 90 % of
verdicts right, <= 10 % inconclusive where the truth is not inconclusive, and nothing
planted (serials, UUIDs, MACs beyond the OUI, IPs, host names) leaking into evidence.
Files the detector gets wrong today are strict xfails with their cause: when a fix makes
one pass, the xfail turns red and its entry must go. Never tune to these files by name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from detector import Verdict, analyze, decode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class HeldOut:
    folder: str
    baseline_right: int  # measured; it may only get better
    known_misses: dict[str, str] = field(default_factory=dict)


SETS = {
    # first contact 55/63 (8 inconclusive); 63/63 after the fixes
    "blind": HeldOut("blind", 63),
    # first contact 62/66 (4 inconclusive); 66/66 after the fixes
    "blind2": HeldOut("blind2", 66),
    # first contact 61/65 (2026-11-26): 4 judgeable pastes inconclusive; 65/65 after the
    # class fixes (nvme list, .containerenv/overlay root, hosting VMs, grep-filtered dmidecode)
    "blind3": HeldOut("blind3", 65),
}

MAC = re.compile(r"\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b", re.IGNORECASE)
HARMLESS_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
# A dotted quad followed by `-letters` is a version (`5.15.133.1-microsoft-standard-WSL2`):
# the evidence must keep it readable. Planted IPs are checked too.
IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]|-[A-Za-z])")


def _rows(folder: str) -> list[dict[str, Any]]:
    text = (FIXTURES / folder / "MANIFEST.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


ROWS = {name: _rows(s.folder) for name, s in SETS.items()}
_cache: dict[tuple[str, str], Verdict] = {}


def verdict_of(name: str, file: str) -> Verdict:
    """Analyse one held-out file once per test session."""
    key = (name, file)
    if key not in _cache:
        _cache[key] = analyze(decode((FIXTURES / SETS[name].folder / file).read_bytes()))
    return _cache[key]


def _params(xfail_misses: bool) -> list[Any]:
    out = []
    for name, rows in ROWS.items():
        misses = SETS[name].known_misses
        for row in rows:
            marks = []
            if xfail_misses and row["file"] in misses:
                marks.append(pytest.mark.xfail(strict=True, reason=misses[row["file"]]))
            out.append(pytest.param(name, row, id=f"{name}/{row['file']}", marks=marks))
    return out


@pytest.mark.parametrize("name", sorted(SETS))
def test_manifest_matches_the_files(name: str) -> None:
    folder = FIXTURES / SETS[name].folder
    files = {p.name for p in folder.glob("*.txt")}
    assert files == {r["file"] for r in ROWS[name]}
    assert len(files) >= 45
    assert set(SETS[name].known_misses) <= files
    for row in ROWS[name]:
        assert row["truth"] in {"bare-metal", "virtual", "container", "inconclusive"}, row
        text = (folder / row["file"]).read_text(encoding="utf-8", errors="replace")
        for token in row.get("planted", []):
            assert token in text, (row["file"], token)


@pytest.mark.parametrize(("name", "row"), _params(xfail_misses=True))
def test_verdict_is_right(name: str, row: dict[str, Any]) -> None:
    assert verdict_of(name, row["file"]).verdict == row["truth"], f"{row['file']}: {row['why']}"


@pytest.mark.parametrize(("name", "row"), _params(xfail_misses=False))
def test_never_bare_metal_for_virtual_or_back(name: str, row: dict[str, Any]) -> None:
    got = verdict_of(name, row["file"]).verdict
    assert {row["truth"], got} != {"bare-metal", "virtual"}, f"{row['file']}: {row['why']}"


@pytest.mark.parametrize(("name", "row"), _params(xfail_misses=False))
def test_evidence_leaks_nothing(name: str, row: dict[str, Any]) -> None:
    for ev in verdict_of(name, row["file"]).evidence:
        for token in row.get("planted", []):
            pattern = r"(?<![\w-])" + re.escape(token) + r"(?![\w-])"
            assert not re.search(pattern, ev.text, re.IGNORECASE), (row["file"], token, ev.text)
        for mac in MAC.findall(ev.text):
            assert mac.lower() in HARMLESS_MACS, (row["file"], ev.text)
        assert not UUID.search(ev.text), (row["file"], ev.text)
        assert not IPV4.search(ev.text), (row["file"], ev.text)


@pytest.mark.parametrize("name", sorted(SETS))
def test_floors_and_no_regression(name: str) -> None:
    rows = ROWS[name]
    right = sum(verdict_of(name, r["file"]).verdict == r["truth"] for r in rows)
    judgeable = [r for r in rows if r["truth"] != "inconclusive"]
    inconclusive = sum(verdict_of(name, r["file"]).verdict == "inconclusive" for r in judgeable)
    assert right >= SETS[name].baseline_right, f"{right}/{len(rows)} right"
    assert right / len(rows) >= 0.90, f"{right}/{len(rows)} right"
    assert inconclusive / len(judgeable) <= 0.10, f"{inconclusive}/{len(judgeable)} inconclusive"
