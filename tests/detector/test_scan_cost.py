"""A line signature's rarest literal decides how many lines of a paste wake it: keep them rare.

Not a timing test (bench/bench_detector.py measures speed); a structural guard. A row found by a
two-letter string (`vd`, `h4`) wakes thousands of lines of a 10 MB paste and every window of a
long line of noise: the third pass's rows once took the mixed benchmark paste from 1.34x to
1.58x the keyword pass, and the noise line to 2.58x, before they were given rarer literals.
"""

from __future__ import annotations

from detector import rules

# Rows whose short strings are known and measured (bench/bench_detector.py stays under 1.5x): all
# four are anchored at the line start, where the prefix trie, not these strings, picks the lines
# (the container-id prompts, /run/.containerenv's `key=` lines), or read in lspci sections only
# (the chipset row's PCH model numbers: H470, Z790...).
MEASURED = {"containerenv-content", "prompt-docker-id-bracket", "prompt-docker-id", "pci-physical-chipset"}
MIN_NEEDLE = 3


def test_no_new_row_is_found_by_a_string_shorter_than_three_characters():
    short = {
        s.id: sorted(n for n in s.needs if len(n) < MIN_NEEDLE)
        for s in rules.signatures()
        if s.needs and min(map(len, s.needs)) < MIN_NEEDLE
    }
    new = {k: v for k, v in short.items() if k not in MEASURED}
    assert not new, f"give these rows a rarer literal (`needs:` or a longer regex): {new}"


def test_the_measured_exceptions_still_exist():
    ids = {s.id for s in rules.signatures()}
    assert ids >= MEASURED, MEASURED - ids
