"""Facts and raw lines -> evidence, using `signatures.yaml`.

Signatures are data: each names the fact keys (or, for raw-line tools like dmesg, lspci,
lsusb, the tools) it applies to, a case-insensitive regex, what it points to and how
strongly. Matching is done in a fixed order (file order), so the same paste always gives
the same evidence.

Raw-line tools are scanned without any per-line Python work: each line signature carries
the plain strings one of which any matching line must contain (`needs`, derived from its
regex by `literals.required`, or chosen in the YAML among the derived sets). The section
is lower-cased once and searched, in C, for the union of those strings (as tails that start
with rare characters, `literals.search_tails`); only the lines that contain one meet the real
regexes, and a signature that reached its cap drops out of the search. Signatures anchored at
the line start are found by their literal prefixes instead (`_combined`). So a 10 MB kernel
log costs about one plain-string regex pass.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from detector import literals
from detector.parsers import Fact

log = logging.getLogger(__name__)

POINTS = ("virtual", "bare-metal", "container", "host-capability", "ambiguous", "neutral")
_ALIASES = {
    "@maker": (
        "system.manufacturer",
        "board.manufacturer",
        "chassis.manufacturer",
        "system.dmi_line",
        "dmi.grep_manufacturer",
        "dmi.manufacturer_any",
    ),
    "@product": (
        "system.product",
        "board.product",
        "system.version",
        "system.family",
        "system.dmi_line",
        "dmi.grep_product",
    ),
}
# Lines longer than this are read in windows around each needle (see scan_lines).
_LONG_LINE = 16_384
_WINDOW_BEFORE, _WINDOW_AFTER = 512, 1024
# Cap on evidence candidates per signature: the verdict needs the first few, not 100 000.
_MAX_HITS_PER_SIGNAL = 3
# Distinct lines a scan remembers the matching signatures of (a bound on its memory).
_SEEN_LINES = 100_000


@dataclass(frozen=True, slots=True)
class Signature:
    """One row of signatures.yaml, compiled."""

    id: str
    keys: tuple[str, ...]
    tools: tuple[str, ...]
    # Regex sources; compiled on first use (`pattern`, `veto`, `command`): a small paste needs
    # a few dozen of the ~400, and compiling them all was a third of `farmhand analyze`'s start.
    match_src: str
    veto_src: str | None
    command_src: str | None
    points_to: str
    weight: float
    reason: str
    hypervisor: str | None
    provider: str | None
    vendor: str | None
    group: str | None
    suppresses: tuple[str, ...]
    virt_what: bool
    # Line signatures: lower-case strings of which every matching line contains one.
    needs: frozenset[str] = frozenset()
    # Strings of which a command `command` matches contains one (empty: always try the regex).
    command_needs: frozenset[str] = frozenset()
    # A self-identifying line (`Hypervisor detected: KVM`, a virtio device): also scanned over
    # the whole paste, whatever tool the segmenter gave its section.
    anywhere: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return _rx(self.match_src)

    @property
    def veto(self) -> re.Pattern[str] | None:
        return _rx(self.veto_src) if self.veto_src else None

    @property
    def command(self) -> re.Pattern[str] | None:
        return _rx(self.command_src) if self.command_src else None


@functools.cache
def _rx(source: str) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    """A signature that matched a line of the paste."""

    sig: Signature
    source: str
    line: int
    text: str


def _compile(row: dict[str, Any]) -> Signature:
    keys: list[str] = []
    for key in row.get("facts", []):
        keys.extend(_ALIASES.get(key, (key,)))
    points = row["points_to"]
    if points not in POINTS:
        raise ValueError(f"signature {row['id']}: points_to {points!r} not in {POINTS}")
    needs: frozenset[str] = frozenset()
    if "line" in row.get("facts", ()):
        needs = _needs(row)
    return Signature(
        id=row["id"],
        keys=tuple(keys),
        tools=tuple(row.get("tools", ())),
        match_src=str(row["match"]),
        veto_src=str(row["not"]) if row.get("not") else None,
        command_src=str(row["command"]) if row.get("command") else None,
        points_to=points,
        weight=float(row["weight"]),
        reason=row["reason"],
        hypervisor=row.get("hypervisor"),
        provider=row.get("provider"),
        vendor=row.get("vendor"),
        group=row.get("group"),
        suppresses=tuple(row.get("suppresses", ())),
        virt_what=bool(row.get("virt_what", points in ("virtual", "container"))),
        needs=needs,
        anywhere=bool(row.get("anywhere", False)),
        command_needs=(literals.required(row["command"]) or frozenset())
        if row.get("command")
        else frozenset(),
    )


def _needs(row: dict[str, Any]) -> frozenset[str]:
    """The literal prefilter of a line signature: derived, or picked in the YAML among the derived sets."""
    found = literals.candidates(row["match"])
    if "needs" in row:
        chosen = frozenset(str(n).lower() for n in row["needs"])
        # Only a set the regex provably requires is accepted: a hand-written one could miss lines.
        if chosen not in found:
            raise ValueError(f"signature {row['id']}: needs {sorted(chosen)} is not required by its regex")
        return chosen
    best = max(found, key=literals.score) if found else None  # what `literals.required` picks
    if not best:
        raise ValueError(f"signature {row['id']}: its regex requires no literal string; add one")
    return best


ROWS_CACHE = "signatures.rows.json"


def yaml_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def rows() -> tuple[dict[str, Any], ...]:
    """signatures.yaml's rows as written (loaded once).

    Even libyaml spends ~0.07 s on this file, a fifth of a small `farmhand analyze`: the same
    rows are shipped as JSON (`signatures.rows.json`, written by `python -m detector.literals`)
    with the digest of the YAML they came from, and read from there while the digest matches.
    """
    text = resources.files("detector").joinpath("signatures.yaml").read_text(encoding="utf-8")
    try:
        cached = json.loads(resources.files("detector").joinpath(ROWS_CACHE).read_text(encoding="utf-8"))
        if cached.get("yaml_sha256") == yaml_digest(text):
            return tuple(cached["rows"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # no cache, or a broken one: the YAML itself says the same
    import yaml  # only when the shipped JSON does not match (costs ~15 ms to import)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader


@functools.cache
def signatures() -> tuple[Signature, ...]:
    """All signatures, in file order (loaded once)."""
    return tuple(_compile(row) for row in rows())


@functools.cache
def _by_key() -> dict[str, tuple[Signature, ...]]:
    table: dict[str, list[Signature]] = {}
    for sig in signatures():
        for key in sig.keys:
            if key != "line":
                table.setdefault(key, []).append(sig)
    return {k: tuple(v) for k, v in table.items()}


@dataclass(frozen=True, slots=True)
class _LineTable:
    """The line signatures of one tool, and which of them each needed string can wake up."""

    sigs: tuple[Signature, ...]
    # needle -> indexes into sigs of the signatures a line may match when a search reports
    # that needle (see `_may_hide`).
    wakes: dict[str, tuple[int, ...]]
    # Per signature, the tails of its needles that the scan searches for (`literals.search_tails`),
    # and the signatures each tail can wake.
    tails: tuple[frozenset[str], ...]
    tail_wakes: dict[str, tuple[int, ...]]


def _may_hide(found: str, other: str) -> bool:
    """Can a line contain `other` while a leftmost-longest search reports only `found` there?

    Yes when `other` lies inside `found`, or starts inside it and runs past its end (the
    search resumes after `found`). A needle starting earlier would have been reported first.
    """
    return other in found or any(other.startswith(found[k:]) for k in range(1, len(found)))


@functools.cache
def _line_table(tool: str) -> _LineTable:
    return _build_line_table(tool)


def _build_line_table(tool: str) -> _LineTable:
    # The whole-paste scan ("*") also carries the self-identifying signatures marked
    # `anywhere`: they count whatever section their line landed in.
    # Those are left out of the per-tool tables: reading a dmesg section's lines twice would
    # find nothing new.
    if tool == "*":
        sigs = tuple(s for s in signatures() if "line" in s.keys and ("*" in s.tools or s.anywhere))
    else:
        sigs = tuple(s for s in signatures() if "line" in s.keys and tool in s.tools and not s.anywhere)
    tail_of = literals.search_tails(frozenset(n for s in sigs for n in s.needs))
    tails = tuple(frozenset(tail_of[n] for n in s.needs) for s in sigs)
    return _LineTable(sigs, _Wakes(tuple(s.needs for s in sigs)), tails, _Wakes(tails))


class _Wakes(dict):
    """needle -> the signatures it can wake, worked out the first time a search reports that
    needle: a small paste meets a handful of needles, so start-up pays for none of the rest."""

    def __init__(self, strings: tuple[frozenset[str], ...]) -> None:
        super().__init__()
        self._strings = strings  # per signature, the strings searched for

    def __missing__(self, needle: str) -> tuple[int, ...]:
        woken = tuple(i for i, mine in enumerate(self._strings) if any(_may_hide(needle, m) for m in mine))
        self[needle] = woken
        return woken


def match_facts(facts: list[Fact], source_of: dict[int, str]) -> list[Hit]:
    """Evidence from structured facts (fact index -> source tool in `source_of`)."""
    from detector.sweep import system_makers

    table = _by_key()
    makers = system_makers()
    hits: list[Hit] = []
    counts: dict[str, int] = {}
    # Pastes repeat values (64 processors, one flags line each): match each value once.
    matching: dict[tuple[str, str], tuple[Signature, ...]] = {}
    for i, fact in enumerate(facts):
        sigs = matching.get((fact.key, fact.value))
        if sigs is None:
            folded = literals.fold(fact.value)
            sigs = matching[fact.key, fact.value] = tuple(
                sig
                for sig in table.get(fact.key, ())
                # a record-less `Manufacturer:` speaks for real hardware only as a system maker
                if not (fact.key in makers and sig.points_to == "bare-metal" and sig.vendor not in makers[fact.key])
                and _may_match(sig.match_src, folded)
                and sig.pattern.search(fact.value)
                and not (sig.veto is not None and sig.veto.search(fact.value))
            )
        for sig in sigs:
            if sig.vendor == MATCHED_VENDOR:
                sig = _vendor_from_match(sig, fact.value)
            if counts.get(sig.id, 0) >= _MAX_HITS_PER_SIGNAL:
                continue
            counts[sig.id] = counts.get(sig.id, 0) + 1
            hits.append(Hit(sig, source_of.get(i, "paste"), fact.line, fact.text))
    return hits


@functools.cache
def _requirements(match_src: str) -> tuple[frozenset[str], ...]:
    return tuple(literals.candidates(match_src))


def _may_match(match_src: str, folded: str) -> bool:
    """Whether a value (case-folded by `literals.fold`) holds a member of every literal set the
    regex requires: a fact row whose literals are absent is never compiled or searched, so a
    small paste compiles the few regexes its values can match."""
    return all(any(w in folded for w in req) for req in _requirements(match_src))


# `vendor: "@match"` in signatures.yaml: the vendor is the first word of what the regex matched
# (a maker outside the named ones: `BIOSTAR Group` -> biostar, `Sun Microsystems` -> sun).
# Firmware makers fill the system maker field of white-box boards: a hint of real hardware, no vendor.
MATCHED_VENDOR = "@match"
# `hypervisor: "@named"` in signatures.yaml: the platform is the one whose word (named.yaml)
# the matched text holds (`Detected virtualization oracle` -> virtualbox, `VM Type: OpenVZ`
# -> openvz); none of them, no name.
MATCHED_NAME = "@named"


@functools.cache
def _names() -> tuple[dict[str, str], re.Pattern[str]]:
    import yaml  # only when a paste has such a hit: yaml costs `analyze` start-up

    text = resources.files("detector").joinpath("named.yaml").read_text(encoding="utf-8")
    words = {str(k).lower(): str(v) for k, v in yaml.safe_load(text).items()}
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return words, re.compile(rf"(?<![\w-])({alts})(?![\w-])", re.IGNORECASE)


def name_platforms(hits: list[Hit]) -> list[Hit]:
    """Hits of `@named` rows with their platform named from the text they matched."""
    out = []
    for h in hits:
        if h.sig.hypervisor == MATCHED_NAME:
            words, pattern = _names()
            span = h.sig.pattern.search(h.text)  # a fact row matched the value, not the line
            m = pattern.search(span.group(0) if span else h.text) or pattern.search(h.text)
            h = replace(h, sig=replace(h.sig, hypervisor=words[m.group(1).lower()] if m else None))
        out.append(h)
    return out


_FIRMWARE_MAKERS = frozenset({"insyde", "ami", "american", "phoenix", "award", "coreboot", "byosoft"})


@functools.cache
def _maker_spellings() -> tuple[tuple[str, str], ...]:
    """makers.yaml: (spelling, vendor), longest spelling first."""
    import yaml  # only when a paste has such a hit: yaml costs `analyze` start-up

    text = resources.files("detector").joinpath("makers.yaml").read_text(encoding="utf-8")
    rows = {str(k).lower(): str(v) for k, v in yaml.safe_load(text).items()}
    return tuple(sorted(rows.items(), key=lambda kv: len(kv[0]), reverse=True))


def vendor_word(said: str) -> str:
    """The vendor a maker's name stands for: its spelling in makers.yaml, else its first word."""
    low = said.strip().lower()
    for spelling, vendor in _maker_spellings():
        if low.startswith(spelling) and (len(low) == len(spelling) or not low[len(spelling)].isalnum()):
            return vendor
    word = re.match(r"[a-z0-9]{2,30}", low)
    return word.group(0) if word else "other"


@functools.lru_cache(maxsize=256)
def _vendor_from_match(sig: Signature, value: str) -> Signature:
    m = sig.pattern.search(value)
    # A row may say where the maker's name starts with a `maker` group (after `Subsystem: `).
    said = (m.group("maker") if "maker" in sig.pattern.groupindex else m.group(0)) if m else ""
    vendor = vendor_word(said) if m else "other"
    return replace(sig, vendor=None if vendor in _FIRMWARE_MAKERS else vendor)


@functools.lru_cache(maxsize=1024)
def _live(tool: str, command: str | None) -> tuple[frozenset[int], frozenset[str]]:
    """The signatures of `tool` that apply after `command`, and the strings they need."""
    table = _line_table(tool)
    low_command = literals.fold(command) if command else ""
    live = frozenset(
        i
        for i, s in enumerate(table.sigs)
        if s.command is None
        or (
            command
            and (not s.command_needs or any(n in low_command for n in s.command_needs))
            and s.command.search(command)
        )
    )
    return live, frozenset(n for i in live for n in table.sigs[i].needs)


def scan_lines(
    tool: str, text: str, start: int, source: str, command: str | None, spent: dict[str, int] | None = None
) -> list[Hit]:
    """Evidence from raw lines of one section (dmesg, lspci, lsusb, lsmod, unknown commands).

    Same result as trying every signature on every line, in line order then file order,
    keeping the first `_MAX_HITS_PER_SIGNAL` lines per signature.

    `spent`: hits per signature id already found in earlier sections of the same paste, updated
    here. A signature at its cap is not looked for again: more lines of the same evidence change
    no verdict, and a paste of the same dump repeated a thousand times then costs one reading.
    """
    if not text:
        return []  # every line signature needs a non-empty string
    table = _line_table(tool)
    live_at_start, _ = _live(tool, command)
    if spent:
        live_at_start = frozenset(
            i for i in live_at_start if spent.get(table.sigs[i].id, 0) < _MAX_HITS_PER_SIGNAL
        )
    if not live_at_start:
        return []
    used = spent if spent is not None else {}
    # Signatures anchored at the line start are found by one combined regex in C (a line that
    # matches none costs no Python); the others by their needles. Merged in line, then file order.
    anchored = frozenset(i for i in live_at_start if table.sigs[i].match_src.startswith("^"))
    hits = _needle_scan(table, live_at_start - anchored, text, start, source, used)
    if anchored:
        more = _anchored_scan(tool, anchored, text, start, source, used)
        if more:
            order = {sig.id: k for k, sig in enumerate(table.sigs)}
            hits = sorted(hits + more, key=lambda h: (h.line, order[h.sig.id]))
    if spent is not None:
        for h in hits:
            spent[h.sig.id] = spent.get(h.sig.id, 0) + 1
    return hits


_BLANK = "[ \\t]*"
_TRIE_LEN = 10
# Texts at most this long and with fewer lines take the line-by-line path of _anchored_scan.
_SMALL_TEXT = 8192
_SMALL_LINES = 64


@functools.cache
def _line_start(match_src: str) -> tuple[str, tuple[str, ...] | None]:
    """For a signature anchored at the line start: the characters it skips first (" \t" for
    `^[ \t]*`, "" for none), and the lower-case prefixes one of which every line it matches
    starts with after them (None when it has no good ones: too short, or starting with a
    character it skips)."""
    lead, found = literals.line_start(match_src)
    if not found or min(map(len, found)) < 2 or any(p[0] in lead for p in found):
        return lead, None
    return lead, tuple(sorted(found))


@functools.lru_cache(maxsize=256)
def _combined(table_key: str, indexes: frozenset[int], lookalikes: bool) -> re.Pattern[str]:
    """The candidate lines of some line-start signatures: a pattern that matches at the newline
    before every line one of them can match (and a few more; `_check_line` then decides). A
    literal first character lets the engine jump from newline to newline in C, where a `(?m)^`
    is tried at every character of the text.

    Most rows begin with a literal word (`^[ \t]*(QEMU|Bochs|...)`): their prefixes
    (`_line_start`) go into one trie whose letters are classes of their cases, so a line
    fails at its first character or two, in C. The other rows are tried as they are (the
    line's blanks skipped once for all of them), behind a lookahead on the characters they
    can start with when that is known. A lookahead on what any of them can start with comes
    first: most lines fail there, in one step.
    """
    table = _line_table(table_key)
    by_lead: dict[str, set[str]] = {}  # the characters skipped first -> prefixes after them
    after_blank: list[str] = []  # rows `^[ \t]*...` without prefixes: what follows the blanks
    others: list[str] = []  # other rows without prefixes
    for i in sorted(indexes):
        src = table.sigs[i].match_src
        lead, found = _line_start(src)
        if found:
            by_lead.setdefault(lead, set()).update(found)
        elif src.startswith("^" + _BLANK):
            after_blank.append(src[1 + len(_BLANK) :])
        else:
            others.append(src[1:])
    # The trie holds the prefixes' first ten characters only: it is a filter (the prefixes
    # themselves are checked in Python), and a smaller regex compiles faster.
    parts = [
        ("[" + re.escape(lead) + "]*" if lead else "")
        + literals.case_trie(frozenset(w[:_TRIE_LEN] for w in words), lookalikes)
        for lead, words in sorted(by_lead.items())
    ]
    known = [(b, literals.first_chars(b)) for b in after_blank]
    blank_alts = [f"(?:{b})" for b, first in known if first is None]
    with_first = [(b, first) for b, first in known if first is not None]
    if with_first:
        chars = set().union(*(first for _, first in with_first))
        chars |= {c.upper() for c in chars} | {c.lower() for c in chars}
        head = "(?=[" + "".join(re.escape(c) for c in sorted(chars)) + "])"
        blank_alts.insert(0, head + "(?:" + "|".join(f"(?:{b})" for b, _ in with_first) + ")")
    alts = [f"(?:{b})" for b in others]
    if blank_alts:
        alts.insert(0, _BLANK + "(?:" + "|".join(blank_alts) + ")")
    if alts:
        parts.append("(?i:" + "|".join(alts) + ")")
    body = "(?:" + "|".join(parts) + ")"
    starts: set[str] | None = set()
    for lead, words in by_lead.items():
        starts |= {re.escape(c) for c in lead}
        extra = literals.CASE_EXTRA if lookalikes else {}
        starts |= {re.escape(c) for w in words for c in w[0] + w[0].upper() + extra.get(w[0], "")}
    if after_blank:
        starts |= {" ", "\\t"}
    for b in others + after_blank:
        found = literals.first_class(b)
        if found is None:
            starts = None
            break
        starts |= found
    if starts:
        body = "(?=[" + "".join(sorted(starts)) + "])" + body
    return re.compile("\n" + body, re.MULTILINE)


def _anchored_scan(
    tool: str, live: frozenset[int], text: str, start: int, source: str, used: dict[str, int]
) -> list[Hit]:
    """Hits of line-start-anchored signatures: candidate lines from one combined regex, each
    then checked against the live anchored signatures whose prefix it starts with (all of
    them, for a signature without prefixes), as the per-line reference does."""
    table, key = _line_table(tool), tool
    live_set = set(live)
    counts = {i: used.get(table.sigs[i].id, 0) for i in live_set}
    starts = {i: _line_start(table.sigs[i].match_src) for i in live_set}
    hits: list[Hit] = []
    # The text's own case variants: most pastes hold none of the four non-ASCII look-alikes.
    lookalikes = literals.has_lookalikes(text)
    # A short text is read line by line: compiling the combined pattern costs more than
    # trying each line's start in Python (the same candidates either way).
    small = len(text) <= _SMALL_TEXT and text.count("\n") < _SMALL_LINES
    scan = None if small else _combined(key, frozenset(live_set), lookalikes)
    order = sorted(live_set)
    seen: dict[str, tuple[int, ...]] = {}  # line -> the signatures that matched it
    pos, lineno, counted = 0, start, 0
    while live_set:
        # pos is 0 or just after a newline: the next line at or after pos that a signature may
        # match (the first line is always read: no newline comes before it).
        if pos == 0 or scan is None:
            line_start = pos
        else:
            m = scan.search(text, pos - 1)
            if m is None:
                break
            line_start = m.start() + 1
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = len(text)
        lineno += text.count("\n", counted, line_start)
        counted = line_start
        line = text[line_start:line_end]
        known = seen.get(line)
        if known is not None:  # the same line again: only what matched it can match it
            candidates = [i for i in known if i in live_set]
        else:
            heads: dict[str, str] = {}  # skipped characters -> the folded start of the rest of the line
            candidates = []
            for i in order:
                lead, found = starts[i]
                if found is not None:
                    rest = heads.get(lead)
                    if rest is None:
                        rest = heads[lead] = literals.fold(line.lstrip(lead)[:32])  # the prefixes are shorter
                    if not rest.startswith(found):
                        continue
                candidates.append(i)
        matched: list[int] = []
        retired = _check_line(table, candidates, line, lineno, source, counts, live_set, hits, matched)
        if known is None and len(seen) < _SEEN_LINES and len(line) <= _LONG_LINE:
            seen[line] = tuple(matched)
        if retired and live_set:
            if scan is not None:
                scan = _combined(key, frozenset(live_set), lookalikes)
            order = sorted(live_set)
        pos = line_end + 1
        if pos > len(text):
            break
    return hits


def _check_line(
    table: _LineTable,
    candidates: list[int],
    line: str,
    lineno: int,
    source: str,
    counts: dict[int, int],
    live: set[int],
    hits: list[Hit],
    matched: list[int] | None = None,
) -> bool:
    """Try the candidate signatures (file order) on one line; record hits (and their indexes in
    `matched`), retire those that reached their cap from `live`. True when one retired (the
    caller's search then narrows)."""
    retired = False
    for i in candidates:
        sig = table.sigs[i]
        if not sig.pattern.search(line) or (sig.veto is not None and sig.veto.search(line)):
            continue
        if matched is not None:
            matched.append(i)
        counts[i] += 1
        if sig.vendor == MATCHED_VENDOR:
            sig = _vendor_from_match(sig, line)
        hits.append(Hit(sig, source, lineno, line))
        if counts[i] >= _MAX_HITS_PER_SIGNAL:
            live.discard(i)
            retired = True
    return retired


def _line_of(low: str, pos: int, m: re.Match[str]) -> tuple[int, int]:
    """Start and end of the line holding match `m`, looking back no further than `pos`."""
    nl = low.rfind("\n", pos, m.start())
    end = low.find("\n", m.end())
    return (nl + 1 if nl >= 0 else pos), (end if end >= 0 else len(low))


def _needle_scan(
    table: _LineTable, live_at_start: frozenset[int], text: str, start: int, source: str, used: dict[str, int]
) -> list[Hit]:
    """Hits of the other line signatures, found through the plain strings they need.

    The search is for the tails of those strings (`literals.search_tails`): every line with a
    needle has its tail. Only a line too long to read whole is read as the needles' own search
    reads it, in windows around each needle, so its windows are the same.
    """
    if not live_at_start:
        return []
    live = set(live_at_start)
    low = literals.fold(text)
    counts = {i: used.get(table.sigs[i].id, 0) for i in live}
    hits: list[Hit] = []

    def tails() -> re.Pattern[str]:
        return literals.finder(frozenset(n for i in live for n in table.tails[i]))

    def needles() -> re.Pattern[str]:  # only for long lines: most pastes never compile it
        return literals.finder(frozenset(n for i in live for n in table.sigs[i].needs))

    by_tails, by_needles = tails(), None
    # line -> the signatures that matched it (a line read once is not tried again)
    seen: dict[str, tuple[int, ...]] = {}
    pos, lineno = 0, start  # pos: start of the first line not looked at yet (line `lineno`)
    while (m := by_tails.search(low, pos)) is not None:
        wakes, find_all = table.tail_wakes, by_tails.findall
        line_start, line_end = _line_of(low, pos, m)
        if line_end - line_start > _LONG_LINE:
            # Every needle from pos on is on this line or a later one (its tail is): find the
            # first as the needles' search does.
            by_needles = by_needles or needles()
            m = by_needles.search(low, pos)
            if m is None:
                break
            wakes, find_all = table.wakes, by_needles.findall
            line_start, line_end = _line_of(low, pos, m)
        lineno += text.count("\n", pos, line_start)
        window_end = line_end
        if line_end - line_start > _LONG_LINE:
            # A megabyte-long "line" (a flattened or binary-ish paste): read it in windows
            # around each needle, so no regex runs over the whole line once per signature.
            line_start = max(line_start, m.start() - _WINDOW_BEFORE)
            window_end = min(line_end, m.end() + _WINDOW_AFTER)
        line = text[line_start:window_end]
        known = seen.get(line) if window_end == line_end else None
        if known is not None:
            # The same line again (a cpuinfo record per core, a repeated dump): only the
            # signatures that matched it last time can match it now.
            candidates = [i for i in known if i in live]
        else:
            # Which signatures can match: those woken by the strings a search reports on this
            # line (one it skips is inside or overlaps one it reports, which wakes it too).
            woken: set[int] = set()
            for n in find_all(low[line_start:window_end]):
                woken.update(wakes[n])
            candidates = sorted(woken & live)
        matched: list[int] = []
        retired = _check_line(table, candidates, line, lineno, source, counts, live, hits, matched)
        if known is None and window_end == line_end and len(seen) < _SEEN_LINES:
            # Live signatures only retire, so those that failed on this line stay failed.
            seen[line] = tuple(matched)
        if retired:
            if not live:
                break
            by_tails, by_needles = tails(), None
        if window_end < line_end:
            pos = window_end  # the rest of the same long line
            continue
        lineno += 1 if line_end < len(low) else 0
        pos = line_end + 1
    return hits


def dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per (signature, line): a line seen both in its section and by the whole-paste scan.

    A bare-value row (group `bare-value`, whole-line DMI strings) is dropped where a parser's
    signature already read the same line the same way: it exists for lines no parser saw.
    """
    seen: set[tuple[str, int]] = set()
    read: set[tuple[int, str]] = {(h.line, h.sig.points_to) for h in hits if h.sig.group != BARE_VALUE}
    out: list[Hit] = []
    for h in hits:
        k = (h.sig.id, h.line)
        if k in seen or (h.sig.group == BARE_VALUE and (h.line, h.sig.points_to) in read):
            continue
        seen.add(k)
        out.append(h)
    return out


BARE_VALUE = "bare-value"


# The kernel prints the machine's DMI summary at boot (`DMI: <maker> <product>/<board>, BIOS
# <version> <date>`) and the same string in every oops and warning (`Hardware name: ...`,
# dump_stack's arch description). Both are read wherever they sit in the paste: a kernel
# trace pasted without a prompt, inside a syslog line or after prose is as telling as dmesg.
_DMI_LINE = re.compile(r"(?m)^[^\n]*\b(?:DMI|Hardware name|Machine model): ([^\n]*)$")
# (`Machine model:` is the device tree's name on ARM boards: `Raspberry Pi 5 Model B`.)
_DMI_NEEDLES = ("DMI: ", "Hardware name: ", "Machine model: ")


def dmi_line_facts(text: str, start: int) -> list[Fact]:
    """The first `DMI: ...` or `Hardware name: ...` kernel line as a `system.dmi_line` fact."""
    # str.find jumps to each candidate in C; the regex then reads only that line.
    found: list[int] = []
    for needle in _DMI_NEEDLES:
        i = text.find(needle)
        while i >= 0:
            if i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"):  # \b before the key
                found.append(i)
                break
            i = text.find(needle, i + 1)
    for i in sorted(found):
        line_start = text.rfind("\n", 0, i) + 1
        line_end = text.find("\n", i)
        m = _DMI_LINE.search(text[line_start : line_end if line_end >= 0 else len(text)])
        if m and m.group(1).strip():
            line = start + text.count("\n", 0, line_start)
            value = m.group(1).strip()
            out = [Fact("system.dmi_line", value, line, m.group(0))]
            # The kernel's form is `<maker> <product>/<board>, BIOS <version> <date>`: the
            # machine's name alone, without the firmware's, is what the name rows read.
            name, sep, _ = value.partition(", BIOS ")
            if sep and name.strip():
                out.append(Fact("system.dmi_name", name.strip(), line, m.group(0)))
            return out
    return []
