"""Which cues of `signals` occur in a text: a fast scanner with a literal pre-filter.

The rule cues are features of the matcher model (`knowledge/features.py`); this module
only finds them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge import signals

GROUP_CAP = 1.0


@dataclass(frozen=True, slots=True)
class Hits:
    names: tuple[str, ...]
    weight: float


NO_HITS = Hits((), 0.0)
_ANY: dict[int, re.Pattern[str]] = {}


def any_of(cues: Sequence[signals.Cue]) -> re.Pattern[str]:
    """One plain alternation of a whole group (the proximity rule walks its matches)."""
    key = id(cues)
    pattern = _ANY.get(key)
    if pattern is None:
        pattern = _ANY[key] = re.compile("|".join(f"(?:{c.pattern.pattern})" for c in cues))
    return pattern


class Scanner:
    """Which cues of one or more groups occur in a text, with a literal pre-filter.

    Python's `re` tries every alternative at every position, which is what made one
    `search` per cue (and even one big alternation) the costliest part of a match. Most
    cues can only start with one of a few literal strings ("vm", "proxmox", "virtual m",
    ...), read off the compiled pattern once (`_literal_prefixes`). A cue whose
    prefixes are all absent cannot match and is skipped with a few `str.find` calls;
    otherwise its `search` starts at the first prefix occurrence. Same result as
    `cue.pattern.search(text[:endpos])` for every cue, at a fraction of the cost.
    """

    __slots__ = ("_cues", "_groups")

    def __init__(self, groups: Sequence[Sequence[signals.Cue]]) -> None:
        self._groups = len(groups)
        cues = []
        for g, group in enumerate(groups):
            for c in group:
                found = _literal_prefixes(c.pattern)
                # One literal alternation per cue: `re` scans it quickly (it skips every
                # position whose character starts none of the literals).
                gate = re.compile("|".join(re.escape(p) for p in found)) if found else None
                cues.append((g, c, gate))
        self._cues = tuple(cues)

    def scan(self, text: str, endpos: int | None = None) -> list[Hits]:
        """Hits per group (in the order given), as if each cue searched text[:endpos]."""
        end = len(text) if endpos is None else min(endpos, len(text))
        hits: list[list[signals.Cue]] = [[] for _ in range(self._groups)]
        for g, c, gate in self._cues:
            start = 0
            if gate is not None:
                first = gate.search(text, 0, end)
                if first is None:
                    continue  # none of its literal prefixes occurs: the cue cannot match
                start = first.start()  # and no match can start before the first of them
            if c.pattern.search(text, start, end) and not (c.unless and c.unless.search(text, 0, end)):
                hits[g].append(c)
        return [to_hits(h) for h in hits]


def _literal_prefixes(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literal strings one of which starts every match of `pattern`; None when unknown."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        from re import _parser  # CPython's own parser: the prefixes follow the compiled regex

        found = _seq_prefixes(list(_parser.parse(pattern.pattern).data), _parser)
    except Exception:  # another Python: no pre-filter, same results
        return None
    return tuple(sorted(found)) if found else None


def _seq_prefixes(seq: list, parser: object) -> set[str] | None:
    """Prefixes of a parsed sequence (zero-width assertions at its start are skipped)."""
    from re import _constants as k

    out = ""
    for op, av in seq:
        if op is k.LITERAL:
            out += chr(av)
            continue
        if op in (k.AT, k.ASSERT, k.ASSERT_NOT) and not out:
            continue  # zero width: the match still starts at the next literal
        inner: set[str] | None = None
        if op is k.SUBPATTERN:
            inner = _seq_prefixes(list(av[-1].data), parser)
        elif op is k.BRANCH:
            parts = [_seq_prefixes(list(b.data), parser) for b in av[1]]
            inner = None if any(x is None for x in parts) else set().union(*parts)  # type: ignore[arg-type]
        if inner is None:
            break
        return {out + x for x in inner}
    return {out} if out else None


def to_hits(cues: list[signals.Cue]) -> Hits:
    if not cues:
        return NO_HITS
    return Hits(tuple(c.name for c in cues), min(sum(c.weight for c in cues), GROUP_CAP))


