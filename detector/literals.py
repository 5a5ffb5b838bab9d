"""Required literals of a signature regex, and a case-folded copy of the text to find them in.

A line signature like `(Hypervisor detected:|Booting paravirtualized kernel on)[ \\t]*KVM`
can only match a line that contains one of a few plain strings ("hypervisor detected:",
"booting paravirtualized kernel on"). `required()` derives such a set from the parsed
regex, so the scanner can search a 10 MB log once, in C, for the union of all those
strings, and run the real regexes only on the few lines that contain one.

Soundness is the point: if the signature (compiled case-insensitively) matches a line,
`fold(line)` contains one of the strings `required()` returns. Two details make that hold:
the strings are lower-case ASCII, and `fold()` maps the four non-ASCII characters that
`re.IGNORECASE` treats as equal to an ASCII letter (İ ı ſ K) onto that letter while keeping
every character at its offset.
"""

from __future__ import annotations

import functools
import json
import re
import re._constants as _c  # the regex parser's opcodes (stable across 3.11-3.13)
import re._parser as _parser
from collections.abc import Callable
from pathlib import Path

# Largest set of alternatives one requirement may hold (a branch of 40 chipset names is fine).
_MAX_SET = 128
# Most alternatives a literal run may fork into through classes like [ \t] or [1-7].
_MAX_FORK = 16
# Beyond this length a literal is "rare enough": prefer fewer alternatives over longer ones.
_GOOD_LEN = 8
# Non-ASCII characters re.IGNORECASE equates with an ASCII letter, and str.lower() does not
# (U+212A KELVIN SIGN already lowers to "k"). "İ".lower() is two characters: replaced first.
_FOLD_FIXES = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))
_FOLD_SLICE = 1 << 18
_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)

Requirement = frozenset[str]

# What `candidates` and `line_start` derive from each shipped regex, computed ahead
# (`python -m detector.literals`): parsing some 500 regexes was a third of a small
# `farmhand analyze`. A regex the file does not hold is derived on the spot, so a new signature
# works before the file is rewritten; tests/detector/test_literals_file.py fails until it is.
SHIPPED = Path(__file__).with_name("literals.json")


@functools.cache
def _shipped() -> dict[str, dict]:
    try:
        data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return {"candidates": data.get("candidates", {}), "line_start": data.get("line_start", {})}


def fold(text: str) -> str:
    """Lower-case copy of `text` with every character at the same offset."""
    if text.isascii():  # O(1): CPython keeps an ASCII flag on every str
        return text.lower()
    for ch, repl in _FOLD_FIXES:
        if ch in text:
            text = text.replace(ch, repl)
    # str.lower() on non-ASCII text allocates 12 bytes per character for its work buffer
    # (120 MB for 10 MB): lower in slices instead. Only the Greek final sigma depends on
    # its neighbours, and either form of it is as far from an ASCII needle.
    low = "".join(text[i : i + _FOLD_SLICE].lower() for i in range(0, len(text), _FOLD_SLICE))
    if len(low) != len(text):  # a future Unicode lower-cases one more character into two
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


def _class_chars(items: list) -> set[str] | None:
    """The characters of a small ASCII class like `[ \\t]` or `[1-7]` (None for \\d, [^x], ...)."""
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL and av < 128 and av != 10:
            chars.add(chr(av).lower())
        elif op is _c.RANGE and 10 < av[0] <= av[1] < 128 and av[1] - av[0] < 16:
            chars.update(chr(c).lower() for c in range(av[0], av[1] + 1))
        else:
            return None
    return chars


def score(req: Requirement) -> tuple[int, int]:
    """How good a literal set is for the scan: long strings first, then few of them."""
    return min(min(map(len, req)), _GOOD_LEN), -len(req)


def _sequence(items: list, out: list[Requirement]) -> Requirement | None:
    """Collect every requirement of a regex sequence into `out`; return the best one."""
    found: list[Requirement] = []
    runs = {""}  # the literal run being read, as alternatives (a small class like [ \t] forks it)

    def flush() -> None:
        nonlocal runs
        if min(map(len, runs)) > 0:
            found.append(frozenset(runs))
        runs = {""}

    for op, av in items:
        if op is _c.LITERAL and av < 128 and av != 10:  # a needle never spans lines
            runs = {r + chr(av).lower() for r in runs}
        elif op is _c.IN and (chars := _class_chars(av)) and len(runs) * len(chars) <= _MAX_FORK:
            if min(map(len, runs)) > 0:
                found.append(frozenset(runs))  # the run so far may be the better needle
            runs = {r + ch for r in runs for ch in chars}
        elif op in _ZERO_WIDTH:
            continue  # consumes nothing: the literals on both sides stay adjacent
        else:
            flush()
            sub: Requirement | None = None
            if op is _c.SUBPATTERN:
                sub = _sequence(list(av[3]), out)
            elif op is _c.BRANCH:
                alts = [_sequence(list(b), []) for b in av[1]]
                if all(alts) and sum(len(a) for a in alts if a) <= _MAX_SET:
                    sub = frozenset().union(*(a for a in alts if a))
            elif op in _REPEATS and av[0] >= 1:
                sub = _sequence(list(av[2]), out)
            if sub:
                found.append(sub)
    flush()
    out.extend(found)
    return max(found, key=score) if found else None


@functools.lru_cache(maxsize=1024)
def _parsed(pattern: str) -> _parser.SubPattern:
    """The parsed regex (as re.IGNORECASE reads it), kept: signatures.yaml's loading parses each
    line signature once for its needles, and its line start is read from the same tree."""
    return _parser.parse(pattern, re.IGNORECASE)


def candidates(pattern: str) -> list[Requirement]:
    """Every literal set of which any match of `pattern` (case-insensitive) contains a member."""
    got = _shipped()["candidates"].get(pattern)
    if got is not None:
        return [frozenset(r) for r in got]
    return derive_candidates(pattern)


def derive_candidates(pattern: str) -> list[Requirement]:
    """`candidates`, derived from the parsed regex (never from the shipped file)."""
    out: list[Requirement] = []
    _sequence(list(_parsed(pattern)), out)
    return out


def required(pattern: str) -> Requirement | None:
    """The best such set (long strings, few alternatives), or None if the regex has none."""
    found = candidates(pattern)
    return max(found, key=score) if found else None


def _trie(words: list[str], char: Callable[[str], str] = re.escape, *, prefixes: bool = False) -> str:
    """A regex for a set of strings, as a trie: `kvm(?:-clock: |-guest: )`.

    The engine then tries one alternative per distinct next character instead of one per
    string, about 3x faster on a log. Longer strings are tried first at each position
    (greedy `?`), so a search reports the longest needle starting at its position.
    `prefixes`: match what starts with one of the words (where a shorter word ends, what
    follows it does not matter); `char` writes one character.
    """
    by_first: dict[str, list[str]] = {}
    ends_here = False
    for w in words:
        if w:
            by_first.setdefault(w[0], []).append(w[1:])
        else:
            ends_here = True
    if prefixes and ends_here:
        return ""
    alts = [char(ch) + _trie(rest, char, prefixes=prefixes) for ch, rest in sorted(by_first.items())]
    if not alts:
        return ""
    if len(alts) == 1 and not ends_here:
        return alts[0]
    return "(?:" + "|".join(alts) + ")" + ("?" if ends_here else "")


@functools.lru_cache(maxsize=256)
def finder(needles: frozenset[str]) -> re.Pattern[str]:
    """One compiled pattern matching any of the plain strings, longest first, for folded text."""
    return re.compile(_trie(sorted(needles)))


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters every match of `pattern` can start with (lower-cased), or None when any
    character could (a class like \\w, a negated class, an empty match)."""
    try:
        from re import _constants as k
        from re import _parser
    except ImportError:  # another Python: no lookahead, same results
        return None
    try:
        found = _first(list(_parser.parse(pattern).data), k)
    except Exception:  # an exotic construct: no lookahead, same results
        return None
    return frozenset(c.lower() for c in found) if found else None


def _first(seq: list, k) -> set[str] | None:
    out: set[str] = set()
    for op, av in seq:
        if op is k.AT:
            continue  # zero width
        if op is k.LITERAL:
            return out | {chr(av)}
        if op is k.IN:
            chars: set[str] = set()
            for o, a in av:
                if o is k.LITERAL:
                    chars.add(chr(a))
                elif o is k.RANGE and a[1] - a[0] < 128:
                    chars.update(chr(c) for c in range(a[0], a[1] + 1))
                elif o is k.CATEGORY and a is k.CATEGORY_DIGIT:
                    chars.update("0123456789")
                else:
                    return None
            return out | chars
        if op is k.SUBPATTERN:
            inner = _first(list(av[-1].data), k)
            if inner is None:
                return None
            return out | inner
        if op is k.BRANCH:
            parts = [_first(list(b.data), k) for b in av[1]]
            if any(p is None for p in parts):
                return None
            return out | set().union(*parts)
        if op in (k.MAX_REPEAT, k.MIN_REPEAT, getattr(k, "POSSESSIVE_REPEAT", None)):
            lo, _, sub = av
            inner = _first(list(sub.data), k)
            if inner is None:
                return None
            out |= inner
            if lo > 0:
                return out
            continue  # optional: the next item can start the match too
        return None
    return None  # the pattern can match the empty string


# ---------------------------------------------------------------- line-start prefixes

# Most alternatives a prefix set may hold, and the length past which a prefix is not grown.
_MAX_PREFIXES = 64
_PREFIX_LEN = 12
# Every character re.IGNORECASE lets an ASCII letter match besides its two cases (see fold).
CASE_EXTRA = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}

_State = frozenset[tuple[str, bool]]  # (prefix so far, can still grow)


def prefixes(pattern: str) -> frozenset[str] | None:
    """Lower-case ASCII strings one of which, case-insensitively, every match of `pattern`
    (compiled with re.IGNORECASE) starts with; None when a match may start with anything."""
    try:
        items = list(_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # an exotic construct: no prefixes, same results
        return None
    states = _prefix_sequence(items, frozenset({("", True)}))
    if any(not s for s, _ in states):
        return None
    return frozenset(s for s, _ in states)


def line_start(pattern: str) -> tuple[str, frozenset[str] | None]:
    """For a regex read at a line start: the characters it first skips (`[ \\t]*` -> " \\t";
    "" when it does not begin so), and `prefixes` of what comes after them."""
    got = _shipped()["line_start"].get(pattern)
    if got is not None:
        return got[0], None if got[1] is None else frozenset(got[1])
    return derive_line_start(pattern)


def derive_line_start(pattern: str) -> tuple[str, frozenset[str] | None]:
    """`line_start`, derived from the parsed regex (never from the shipped file)."""
    try:
        items = list(_parsed(pattern))
    except Exception:  # an exotic construct: no prefixes, same results
        return "", None
    while items and items[0][0] is _c.AT:
        items = items[1:]  # `^`: zero width
    lead = ""
    if items and items[0][0] in _REPEATS:
        lo, hi, sub = items[0][1]
        sub = list(sub)
        if lo == 0 and hi == _c.MAXREPEAT and len(sub) == 1 and sub[0][0] is _c.IN:
            chars = [chr(av) if o is _c.LITERAL else None for o, av in sub[0][1]]
            # Characters without case only: skipping them is the same with or without re.IGNORECASE.
            if all(ch is not None and ch.lower() == ch.upper() and ch != "\n" for ch in chars):
                lead = "".join(sorted(set(chars)))  # type: ignore[arg-type]
                items = items[1:]
    states = _prefix_sequence(items, frozenset({("", True)}))
    if any(not s for s, _ in states):
        return lead, None
    return lead, frozenset(s for s, _ in states)


def _closed(states: _State) -> _State:
    return frozenset((s, False) for s, _ in states)


def _prefix_sequence(items: list, states: _State) -> _State:
    """The prefixes after a regex sequence, given those before it."""
    for op, av in items:
        if not any(grow and len(s) < _PREFIX_LEN for s, grow in states):
            return _closed(states)
        new: _State
        if op is _c.LITERAL and av < 128 and av != 10:
            new = frozenset((s + chr(av).lower(), True) if grow else (s, grow) for s, grow in states)
        elif op is _c.IN and (chars := _class_chars(av)):
            new = frozenset(
                pair for s, grow in states for pair in (((s + ch, True) for ch in chars) if grow else ((s, grow),))
            )
        elif op in _ZERO_WIDTH:
            continue  # consumes nothing
        elif op is _c.SUBPATTERN:
            new = _prefix_sequence(list(av[3]), states)
        elif op is _c.BRANCH:
            new = frozenset().union(*(_prefix_sequence(list(b), states) for b in av[1]))
        elif op in _REPEATS:
            lo, hi, sub = av
            once = _prefix_sequence(list(sub), states)
            if hi != 1:
                once = _closed(once)  # another repetition may follow: stop growing there
            new = once if lo >= 1 else states | once
        else:
            return _closed(states)
        if len(new) > _MAX_PREFIXES:
            return _closed(states)
        states = new
    return states


_CATEGORIES = {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_WORD: r"\w", _c.CATEGORY_SPACE: r"\s"}


def first_class(pattern: str) -> frozenset[str] | None:
    """What a match of `pattern` (compiled with re.IGNORECASE) can start with, as the items of
    a regex character class for text that is not case-folded (`k`, `K`, `\u212a`, `\\d`...);
    None when it can start with anything (a negated class, an empty match, `.`)."""
    try:
        found = _first_items(list(_parser.parse(pattern, re.IGNORECASE)))
    except Exception:  # an exotic construct: no class, same results
        return None
    if not found:
        return None
    out: set[str] = set()
    for item in found:
        if len(item) == 1 and item.isascii() and item.isalpha():
            low = item.lower()
            out.update(re.escape(ch) for ch in low + low.upper() + CASE_EXTRA.get(low, ""))
        else:
            out.add(item if item in _CATEGORIES.values() else re.escape(item))
    return frozenset(out)


def _first_items(seq: list) -> set[str] | None:
    """The characters (and categories) a match of the parsed sequence can start with."""
    out: set[str] = set()
    for op, av in seq:
        if op in _ZERO_WIDTH:
            continue
        if op is _c.LITERAL:
            return out | {chr(av)}
        if op is _c.IN:
            for o, a in av:
                if o is _c.LITERAL:
                    out.add(chr(a))
                elif o is _c.RANGE and a[1] - a[0] < 128 and a[1] < 128:
                    out.update(chr(c) for c in range(a[0], a[1] + 1))
                elif o is _c.CATEGORY and a in _CATEGORIES:
                    out.add(_CATEGORIES[a])
                else:
                    return None
            return out
        if op is _c.SUBPATTERN:
            inner = _first_items(list(av[3]))
            return None if inner is None else out | inner
        if op is _c.BRANCH:
            parts = [_first_items(list(b)) for b in av[1]]
            if any(p is None for p in parts):
                return None
            return out.union(*parts)
        if op in _REPEATS:
            lo, _, sub = av
            inner = _first_items(list(sub))
            if inner is None:
                return None
            out |= inner
            if lo > 0:
                return out
            continue  # optional: what follows can start the match too
        return None
    return None  # the pattern can match the empty string


def has_lookalikes(text: str) -> bool:
    """Does `text` hold one of the non-ASCII letters re.IGNORECASE equates with an ASCII one?"""
    return not text.isascii() and any(ch in text for extra in CASE_EXTRA.values() for ch in extra)


def case_trie(words: frozenset[str], lookalikes: bool = True) -> str:
    """A regex (for the original text, no re.IGNORECASE) matching what starts with one of the
    lower-case `words` case-insensitively, as re.IGNORECASE would: each letter a class of its
    cases, so the engine's first-character test skips most branches without trying them.
    `lookalikes=False` leaves out the four non-ASCII letters (for a text without them: the
    classes then compile several times faster)."""

    def char(ch: str) -> str:
        if not ch.isalpha():
            return re.escape(ch)
        return "[" + ch + ch.upper() + (CASE_EXTRA.get(ch, "") if lookalikes else "") + "]"

    return _trie(sorted(words), char, prefixes=True)



# ---------------------------------------------------------------- search tails

# Share of each character in pasted tool output, in percent (counted over the test fixtures);
# any other character counts as 0.05. A search for a set of strings tries every position of
# the text whose character can start one of them, so the set should start with few, rare ones.
_SHARE = dict(
    zip(
        " e0strioancdmpl:u-1fb2v.4h3g/xy6857_9k,w[`\t(])\"=#z'q*+@>|$",
        (
            19.61, 5.89, 4.08, 4.0, 3.75, 3.72, 3.7, 3.64, 3.52, 3.1, 2.83, 2.65, 2.35, 2.23, 2.16,
            2.05, 1.98, 1.76, 1.67, 1.58, 1.46, 1.36, 1.19, 1.14, 1.07, 1.05, 0.93, 0.88, 0.83, 0.79,
            0.78, 0.78, 0.77, 0.7, 0.62, 0.6, 0.53, 0.53, 0.45, 0.45, 0.4, 0.39, 0.32, 0.31, 0.31,
            0.31, 0.26, 0.25, 0.23, 0.21, 0.14, 0.13, 0.12, 0.12, 0.1, 0.1, 0.1, 0.08,
        ),
        strict=True,
    )
)
# A tail keeps at least this many characters of its string (fewer would wake too many lines);
# and each further starting character costs as much as this share (random text has them all).
_MIN_TAIL = 5
_START_COST = 0.3


@functools.lru_cache(maxsize=64)
def search_tails(needles: frozenset[str]) -> dict[str, str]:
    """needle -> the tail of it to search for instead. A line that contains a needle contains
    its tail, so searching for the tails finds every line the needles find (and a few more).
    The tails start with few, rare characters: a weighted set cover, greedy, over the
    characters each needle may start a tail of _MIN_TAIL or more characters at."""
    starts = {n: ({n[0]} if len(n) <= _MIN_TAIL else set(n[: len(n) - _MIN_TAIL + 1])) for n in needles}
    by_char: dict[str, set[str]] = {}
    for n, chars in starts.items():
        for ch in chars:
            by_char.setdefault(ch, set()).add(n)
    left, chosen = set(needles), []
    while left:
        ch = min(
            (c for c in by_char if by_char[c] & left),
            key=lambda c: ((_SHARE.get(c, 0.05) + _START_COST) / len(by_char[c] & left), c),
        )
        chosen.append(ch)
        left -= by_char[ch]
    out: dict[str, str] = {}
    for n in needles:
        if len(n) <= _MIN_TAIL:
            out[n] = n
            continue
        ch = next(c for c in chosen if c in starts[n])
        out[n] = n[n.index(ch) :]  # the longest such tail
    return out


# --- the shipped file ------------------------------------------------------------------------


def derived_file() -> dict[str, dict]:
    """What `literals.json` must hold: every regex of signatures.yaml that the line scans read,
    derived afresh (the file's content, as `python -m detector.literals` writes it)."""
    from detector import rules

    cands: dict[str, list[list[str]]] = {}
    starts: dict[str, list] = {}
    for row in rules.rows():
        for key in ("match", "command"):
            src = row.get(key)
            if isinstance(src, str) and src not in cands:
                cands[src] = [sorted(r) for r in derive_candidates(src)]
        src = row.get("match")
        if isinstance(src, str) and src not in starts:
            lead, found = derive_line_start(src)
            starts[src] = [lead, None if found is None else sorted(found)]
    return {"candidates": dict(sorted(cands.items())), "line_start": dict(sorted(starts.items()))}


def dumps_file(data: dict[str, dict]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=0, separators=(",", ":")) + "\n"


def rows_file() -> str:
    """What `signatures.rows.json` must hold: signatures.yaml's rows, parsed, with its digest."""
    import yaml

    from detector import rules

    text = Path(__file__).with_name("signatures.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = {"yaml_sha256": rules.yaml_digest(text), "rows": yaml.load(text, Loader=loader)}  # noqa: S506
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    SHIPPED.write_text(dumps_file(derived_file()), encoding="utf-8")
    Path(__file__).with_name("signatures.rows.json").write_text(rows_file(), encoding="utf-8")
    print(f"wrote {SHIPPED.name} and signatures.rows.json")
