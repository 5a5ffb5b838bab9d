"""The two ways `rules._anchored_scan` finds its candidate lines give the same evidence: one
combined regex (long texts) and a line-by-line walk (short texts, where compiling the combined
regex would cost more than the scan)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector import analyze, rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PASTES = sorted((FIXTURES / "layouts").glob("*.txt")) + sorted((FIXTURES / "real-pastes" / "tune" / "cases").glob("*.txt"))


def _evidence(text: str) -> list[tuple]:
    v = analyze(text)
    return [(v.verdict, v.hypervisor, v.provider, v.vendor)] + [(e.signal, e.line, e.text) for e in v.evidence]


@pytest.mark.parametrize("path", PASTES[::3], ids=lambda p: p.name)
def test_line_walk_and_combined_regex_agree(path, monkeypatch):
    text = path.read_text(encoding="utf-8", errors="replace")
    walked = _evidence(text)
    monkeypatch.setattr(rules, "_SMALL_TEXT", -1)  # every text takes the combined regex
    assert _evidence(text) == walked


def test_a_short_paste_compiles_no_combined_pattern(monkeypatch):
    rules._combined.cache_clear()
    analyze("Manufacturer: Dell Inc.\nProduct Name: PowerEdge R720\n")
    assert rules._combined.cache_info().misses == 0
