"""Which of many regexes can match a post, found with one scan for literal strings.

Python's `re` tries every alternative of a pattern at every position of the text, so one
`search` per cue, rule signal and veto was most of the cost of a match. Most of them can only
match where one of a few literal strings starts ("vm", "proxmox", "not for", ...), read off
the parsed pattern once (`prefixes`). An `Index` holds those literals for every pattern it
knows and finds the ones that occur in a text in one pass (`Index.post`). A pattern none of
whose prefixes occurs cannot match and is skipped; otherwise it is tried only where one of
them occurs (`first_match`). A pattern whose prefixes are missing or weak ("a", "3") is
split into its top-level alternatives, each gated on its own (by its prefixes, and where
those are weak by a literal every match contains: `required`), and the leftmost of their
matches (the earlier alternative on a tie) is exactly what the whole pattern's `search`
finds. Results are memoised per post, so the
signals, the vetoes and the cues that read one pattern share one search.

Equivalence with plain `pattern.search(text)` is tested on every post we have and on
generated texts (tests/knowledge/test_speed.py).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

try:  # CPython's own parser: the literals follow the compiled regex exactly
    from re import _constants as _k
    from re import _parser
except ImportError:  # another Python: no pre-filter, the same results
    _parser = _k = None  # type: ignore[assignment]

# Required literals shorter than this occur in nearly every post: they would gate nothing.
MIN_REQUIRED = 3
# Prefixes shorter than this ("a", "i", "3") start a word every few words: a pattern gated
# only on them is split into its alternatives, or also gated on a literal inside it.
WEAK_PREFIX = 2
# Prefix extraction follows groups and optional parts while the literal is shorter than
# LONG_PREFIX, and gives up the longer literals past MAX_PREFIXES of them.
LONG_PREFIX = 3
MAX_PREFIXES = 256
# Past this many occurrences of its prefixes, one `search` beats a `match` at each.
MAX_TRIES = 6


# Deriving the literals means parsing every pattern again (the cost of `ask`'s start-up):
# `python -m knowledge.literals` writes them to `prefilter_literals.json` once, and the
# functions below read them from there for the Python version that wrote them (another
# version derives them afresh: the same results, a little slower).
# tests/knowledge/test_prefilter_literals.py checks the file is what a fresh derivation gives.
LITERALS_PATH = Path(__file__).with_name("prefilter_literals.json")
USE_SHIPPED = True  # the writer turns this off to derive everything itself
_derived: dict[str, dict] = {}  # key -> what was derived, for the writer


def _key(pattern: re.Pattern[str] | str) -> str:
    if not isinstance(pattern, str):
        return f"{int(pattern.flags)}\x00{pattern.pattern}"
    return f"s\x00{pattern}"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict]:
    if not USE_SHIPPED:
        return {}
    try:
        data = json.loads(LITERALS_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("python") != f"{sys.version_info[0]}.{sys.version_info[1]}":
        return {}
    return data.get("patterns") or {}


def _remember(pattern: re.Pattern[str] | str, field: str, value: object) -> None:
    _derived.setdefault(_key(pattern), {})[field] = value


def _from_file(pattern: re.Pattern[str] | str, field: str) -> tuple[bool, object]:
    row = _shipped().get(_key(pattern))
    if row is None or field not in row:
        return False, None
    return True, row[field]


@lru_cache(maxsize=1024)
def anchored_prefixes(pattern: re.Pattern[str] | str) -> frozenset[tuple[str, bool]] | None:
    """(literal, behind a word boundary) pairs, one of which starts every match; None if unknown.

    "Behind a word boundary" means the pattern asserts `\\b` right before that literal, so
    only its occurrences at a boundary can start a match.
    """
    known, value = _from_file(pattern, "anchored")
    if known:
        return None if value is None else frozenset((w, bool(b)) for w, b in value)  # type: ignore[union-attr]
    got = _anchored_prefixes(pattern)
    _remember(pattern, "anchored", None if got is None else sorted([w, b] for w, b in got))
    return got


def _anchored_prefixes(pattern: re.Pattern[str] | str) -> frozenset[tuple[str, bool]] | None:
    seq = _parse(pattern)
    if seq is None:
        return None
    found = _seq_prefixes(seq, False)
    if not found:
        return None
    if not isinstance(pattern, str) and pattern.flags & re.ASCII:
        return frozenset((w, False) for w, _ in found)  # its \b is not the index's
    return frozenset(found)


def prefixes(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """Literal strings one of which starts every match of `pattern`; None when unknown."""
    found = anchored_prefixes(pattern)
    return None if found is None else frozenset(w for w, _ in found)


def strong_prefixes(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """`prefixes` when none of them is weak (shorter than WEAK_PREFIX), else None."""
    found = prefixes(pattern)
    return found if found and min(map(len, found)) >= WEAK_PREFIX else None


@lru_cache(maxsize=1024)
def required(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """Literal strings one of which occurs inside every match of `pattern`; None when unknown."""
    known, value = _from_file(pattern, "required")
    if known:
        return None if value is None else frozenset(value)  # type: ignore[arg-type]
    got = _required(pattern)
    _remember(pattern, "required", None if got is None else sorted(got))
    return got


def _required(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    seq = _parse(pattern)
    if seq is None:
        return None
    found = _seq_required(seq)
    return frozenset(found) if found and min(map(len, found)) >= MIN_REQUIRED else None


def alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regex source (`a|b(c|d)|e` -> a, b(c|d), e)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if source[i + 1 : i + 2] == "^":
                i += 1
            if source[i + 1 : i + 2] == "]":  # a "]" first in a class is a literal
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def first_match(pattern: re.Pattern[str], text: str, starts: frozenset[str]) -> re.Match[str] | None:
    """`pattern.search(text)` when every match starts with one of `starts` (the ones present).

    `match` at each occurrence, leftmost first: a match found at a position by `match` is
    the one `search` finds there. Past MAX_TRIES misses, one `search` from the next
    occurrence (no match starts before it).
    """
    if type(pattern) is Lazy:
        pattern = pattern.compiled()  # the wrapper's call costs more than most matches
    find, match = text.find, pattern.match
    if len(starts) == 1:
        (w,) = starts
        i = find(w)
        for _ in range(MAX_TRIES):
            if i < 0:
                return None
            m = match(text, i)
            if m is not None:
                return m
            i = find(w, i + 1)
        return None if i < 0 else pattern.search(text, i)
    ahead = {w: i for w in starts if (i := find(w)) >= 0}  # next occurrence of each
    for _ in range(MAX_TRIES):
        if not ahead:
            return None
        i = min(ahead.values())
        m = match(text, i)
        if m is not None:
            return m
        for w, j in list(ahead.items()):
            if j == i:
                j = find(w, i + 1)
                if j < 0:
                    del ahead[w]
                else:
                    ahead[w] = j
    return pattern.search(text, min(ahead.values())) if ahead else None


def _parse(pattern: re.Pattern[str] | str) -> list | None:
    if _parser is None:
        return None
    flags = 0
    if not isinstance(pattern, str):  # a compiled pattern, or a Lazy one
        if pattern.flags & re.IGNORECASE or not isinstance(pattern.pattern, str):
            return None
        flags = pattern.flags & (re.VERBOSE | re.DOTALL | re.MULTILINE | re.ASCII)
        pattern = pattern.pattern
    try:
        parsed = _parser.parse(pattern, flags)
    except Exception:  # a pattern this parser does not read: no pre-filter
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    return list(parsed.data)


def _seq_prefixes(seq: list, anchored: bool) -> set[tuple[str, bool]] | None:
    """Prefixes of a parsed sequence (zero-width assertions at its start are skipped).

    A group, a branch or an optional element met before LONG_PREFIX literal characters is
    followed into what comes after it ("(?:a|my) zos" gives "a zos" and "my zos", "3-?node"
    gives "3-node" and "3node"), unless that makes more than MAX_PREFIXES strings.
    """
    out = ""
    for i, (op, av) in enumerate(seq):
        if op is _k.LITERAL:
            out += chr(av)
            continue
        if op in (_k.AT, _k.ASSERT, _k.ASSERT_NOT) and not out:
            # zero width: the match still starts at the next literal
            anchored = anchored or (op is _k.AT and av is _k.AT_BOUNDARY)
            continue
        ways = _ways(op, av)
        if ways is None:
            break
        inner = _union([_seq_prefixes(w + seq[i + 1 :], anchored and not out) for w in ways])
        if len(out) >= LONG_PREFIX or inner is None or len(inner) > MAX_PREFIXES:
            inner = _union([_seq_prefixes(w, anchored and not out) for w in ways])  # the element alone
        if inner is None:
            break
        return {(out + w, a if not out else anchored) for w, a in inner}
    return {(out, anchored)} if out else None


def _ways(op: object, av: object) -> list[list] | None:
    """The sequences one element can be (a group's body, each branch, an optional part or nothing)."""
    if op is _k.SUBPATTERN:
        return [list(av[-1].data)]  # type: ignore[index]
    if op is _k.BRANCH:
        return [list(b.data) for b in av[1]]  # type: ignore[index]
    if op in (_k.MAX_REPEAT, _k.MIN_REPEAT) and av[0] == 0 and av[1] == 1:  # type: ignore[index]
        return [list(av[2].data), []]  # type: ignore[index]
    return None


def _union(parts: list[set[tuple[str, bool]] | None]) -> set[tuple[str, bool]] | None:
    return None if any(x is None for x in parts) else set().union(*parts)  # type: ignore[arg-type]


def _seq_required(seq: list) -> set[str] | None:
    """Literals one of which every match of a parsed sequence contains (the longest choice)."""
    choices: list[set[str]] = []
    run = ""
    for op, av in seq:
        if op is _k.LITERAL:
            run += chr(av)
            continue
        if op in (_k.AT, _k.ASSERT, _k.ASSERT_NOT):
            continue  # zero width: the literals on both sides are adjacent in the text
        if run:
            choices.append({run})
            run = ""
        inner: set[str] | None = None
        if op is _k.SUBPATTERN:
            inner = _seq_required(list(av[-1].data))
        elif op is _k.BRANCH:
            parts = [_seq_required(list(b.data)) for b in av[1]]
            inner = None if any(not x for x in parts) else set().union(*parts)  # type: ignore[arg-type]
        elif op in (_k.MAX_REPEAT, _k.MIN_REPEAT) and av[0] >= 1:
            inner = _seq_required(list(av[2].data))
        if inner:
            choices.append(inner)
    if run:
        choices.append({run})
    return max(choices, key=lambda s: min(map(len, s))) if choices else None


class _Gate:
    """One pattern (or one top-level alternative of it) and the literals that gate it.

    Every match starts with one of `prefixes` and contains one of `required` (each may be
    unknown: None). `required` is only kept where the prefixes are weak (a single character
    such as "a" in `(?:a|my) zos vm`) or missing.
    """

    __slots__ = ("anchored", "pattern", "prefixes", "required")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.anchored = anchored_prefixes(pattern)
        self.prefixes = None if self.anchored is None else frozenset(w for w, _ in self.anchored)
        self.required = required(pattern) if self.weak() else None

    def weak(self) -> bool:
        return strong_prefixes(self.pattern) is None

    def run(self, text: str, present: set[str]) -> re.Match[str] | None:
        """`pattern.search(text)` for a gate whose literals are `present` (its bit is live)."""
        if self.prefixes is None:
            return self.pattern.search(text)  # a compiled pattern or a Lazy one
        return first_match(self.pattern, text, self.prefixes.intersection(present))


def _gates(pattern: re.Pattern[str]) -> tuple[_Gate, ...]:
    """The pattern as one gate, or one per top-level alternative when its prefixes are weak."""
    whole = _Gate(pattern)
    if not whole.weak():
        return (whole,)
    if pattern.flags & re.VERBOSE:
        return (whole,)  # its source may hold comments: no splitting on "|"
    parts = alternatives(pattern.pattern)
    if len(parts) < 2:
        return (whole,)
    return tuple(_Gate(Lazy(p, pattern.flags)) for p in parts)


class Lazy:
    """A regex compiled the first time it is searched.

    The matcher has a few hundred patterns and a post holds the literals of only a few: a
    short-lived `ask` would spend most of its start-up compiling patterns it never tries.
    `pattern` and `flags` are what `re.compile` would give, so the shipped literals
    (keyed by them) and the index treat a `Lazy` like the compiled pattern.
    """

    __slots__ = ("_rx", "flags", "pattern")

    def __init__(self, source: str, flags: int = 0) -> None:
        if not flags & re.ASCII:
            flags |= re.UNICODE  # as re.compile reports a str pattern's flags
        self.pattern, self.flags, self._rx = source, flags, None

    def compiled(self) -> re.Pattern[str]:
        if self._rx is None:
            self._rx = re.compile(self.pattern, self.flags)
        return self._rx

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().search(text, pos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().match(text, pos)

    def finditer(self, text: str) -> Iterable[re.Match[str]]:
        return self.compiled().finditer(text)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lazy) and (self.pattern, self.flags) == (other.pattern, other.flags)

    def __repr__(self) -> str:
        return f"Lazy({self.pattern!r})"


def _trie(words: Iterable[str]) -> str:
    """A regex matching the longest of `words` at a position (a trie, so `re` branches little)."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


class Index:
    """The literals of a fixed set of patterns, scanned for in one pass per text.

    Literals that only ever start a match behind `\\b` are looked for at word boundaries
    only (a fifth of the positions); the few others everywhere. Each gate has a bit: a
    post's `live` mask has the bits of the gates whose literals are all there, so a pattern
    with many alternatives costs one test when none of them can match.
    """

    __slots__ = ("_by_prefix", "_by_required", "_closure", "_free", "_gates", "_loose", "_scan")

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self._gates: dict[re.Pattern[str], tuple[int, int, tuple[_Gate, ...]]] = {}
        self._by_prefix: dict[str, int] = {}
        self._by_required: dict[str, int] = {}
        free_prefix = free_required = 0
        bounded: set[str] = set()
        loose: set[str] = set()
        bit = 0
        for p in patterns:
            if p in self._gates:
                continue
            gates = _gates(p)
            self._gates[p] = (bit, (1 << len(gates)) - 1, gates)
            for g in gates:
                for w, at_boundary in g.anchored or ():
                    (bounded if at_boundary else loose).add(w)
                    self._by_prefix[w] = self._by_prefix.get(w, 0) | 1 << bit
                for w in g.required or ():
                    loose.add(w)
                    self._by_required[w] = self._by_required.get(w, 0) | 1 << bit
                free_prefix |= (g.prefixes is None) << bit
                free_required |= (g.required is None) << bit
                bit += 1
        self._free = (free_prefix, free_required)
        bounded -= loose
        words = bounded | loose
        # The scan reports the longest literal at each position; the shorter ones that
        # start there too are its prefixes.
        self._closure = {w: frozenset(w[:i] for i in range(1, len(w) + 1) if w[:i] in words) for w in words}
        self._scan = re.compile(r"\b(?=(" + _trie(bounded) + "))") if bounded else None
        self._loose = tuple(sorted(loose))

    def post(self, text: str) -> Post:
        """One text, ready for memoised searches."""
        present = {w for w in self._loose if w in text}
        if self._scan is not None:
            closure = self._closure
            for w in set(self._scan.findall(text)):
                present |= closure[w]
        prefixed, contained = self._free
        by_prefix, by_required = self._by_prefix.get, self._by_required.get
        for w in present:
            prefixed |= by_prefix(w, 0)
            contained |= by_required(w, 0)
        return Post(text, present, prefixed & contained, self._gates)


_UNSEEN = object()


class Post:
    """One text and the literals of the index found in it; `search` is memoised."""

    __slots__ = ("_found", "_gates", "live", "present", "text")

    def __init__(
        self, text: str, present: set[str], live: int, gates: dict[re.Pattern[str], tuple[int, int, tuple[_Gate, ...]]]
    ) -> None:
        self.text = text
        self.present = present
        self.live = live  # bit per gate: its literals occur
        self._gates = gates
        self._found: dict[re.Pattern[str], re.Match[str] | object | None] = {}

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """Exactly `pattern.search(self.text)`, skipped when the index rules it out."""
        known = self._gates.get(pattern)
        if known is None:  # not indexed: searched once, then remembered
            m = self._found.get(pattern, _UNSEEN)
            if m is _UNSEEN:
                m = self._found[pattern] = pattern.search(self.text)
            return m  # type: ignore[return-value]
        first, width, gates = known
        live = (self.live >> first) & width
        if not live:
            return None  # none of its gates' literals occurs: nothing to search or remember
        m = self._found.get(pattern, _UNSEEN)  # not try/except: most look-ups here miss
        if m is not _UNSEEN:
            return m  # type: ignore[return-value]
        m = None
        while live:  # the leftmost match; the earlier alternative wins a tie
            low = live & -live
            live ^= low
            got = gates[low.bit_length() - 1].run(self.text, self.present)
            if got is not None and (m is None or got.start() < m.start()):
                m = got
        self._found[pattern] = m
        return m

    def has(self, pattern: re.Pattern[str]) -> bool:
        """Whether `pattern` occurs in the text."""
        return self.search(pattern) is not None

