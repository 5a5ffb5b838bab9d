"""Which cues of `signals` occur in a text: a fast scanner with a literal pre-filter.

The rule cues are features of the matcher model (`knowledge/features.py`); this module
only finds them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge import prefilter, signals

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
    """Which cues of one or more groups occur in a post, read off the post's literal scan.

    Most cues can only start with one of a few literal strings ("vm", "proxmox", "virtual
    m", ...; `prefilter.prefixes`). The post's one scan for the literals of every pattern
    (`prefilter.Index`) names the cues whose prefixes occur; only those are tried, and only
    where a prefix occurs (`prefilter.first_match`). Same result as `cue.pattern.search(text)`
    (and its `unless`) for every cue, at a fraction of the cost.
    """

    __slots__ = ("_always", "_by_literal", "_cues", "_groups")

    def __init__(self, groups: Sequence[Sequence[signals.Cue]]) -> None:
        self._groups = len(groups)
        # a cue with weak prefixes ("a" in "a zos vm") searches through the post's index,
        # which splits it into its alternatives
        self._cues = tuple((g, c, prefilter.strong_prefixes(c.pattern)) for g, group in enumerate(groups) for c in group)
        # literal -> bit mask of the cues that may start with it; cues without: always tried
        self._by_literal: dict[str, int] = {}
        self._always = 0
        for i, (_g, _c, starts) in enumerate(self._cues):
            for w in starts or ():
                self._by_literal[w] = self._by_literal.get(w, 0) | 1 << i
            if starts is None:
                self._always |= 1 << i

    def patterns(self) -> list[re.Pattern[str]]:
        """Every pattern the scan reads (for the index of literals)."""
        return [p for _g, c, _s in self._cues for p in (c.pattern, c.unless) if p is not None]

    def scan(self, post: prefilter.Post) -> list[Hits]:
        """Hits per group (in the order given), as if each cue searched the whole text."""
        text, present = post.text, post.present
        get = self._by_literal.get
        mask = self._always
        for w in present:
            mask |= get(w, 0)
        hits: list[list[signals.Cue]] = [[] for _ in range(self._groups)]
        cues = self._cues
        while mask:  # the candidates, in the groups' order (lowest bit first)
            low = mask & -mask
            mask ^= low
            g, c, starts = cues[low.bit_length() - 1]
            if starts is None:
                m = post.search(c.pattern)
            else:
                m = prefilter.first_match(c.pattern, text, starts.intersection(present))
            if m is not None and not (c.unless is not None and post.has(c.unless)):
                hits[g].append(c)
        return [to_hits(h) for h in hits]


def to_hits(cues: list[signals.Cue]) -> Hits:
    if not cues:
        return NO_HITS
    return Hits(tuple([c.name for c in cues]), min(sum([c.weight for c in cues]), GROUP_CAP))


