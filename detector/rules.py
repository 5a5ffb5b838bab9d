"""Facts and raw lines -> evidence, using `signatures.yaml`.

Signatures are data: each names the fact keys (or, for raw-line tools like dmesg, lspci,
lsusb, the tools) it applies to, a case-insensitive regex, what it points to and how
strongly. Matching is done in a fixed order (file order), so the same paste always gives
the same evidence. Raw-line tools are scanned with one combined regex per tool, so a
10 MB kernel log costs one regex pass plus work per *matching* line only.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from detector.parsers import Fact

log = logging.getLogger(__name__)

POINTS = ("virtual", "bare-metal", "container", "host-capability", "ambiguous", "neutral")
_ALIASES = {
    "@maker": ("system.manufacturer", "board.manufacturer", "chassis.manufacturer", "system.dmi_line"),
    "@product": ("system.product", "board.product", "system.version", "system.family", "system.dmi_line"),
}
# Cap on evidence candidates per signature: the verdict needs the first few, not 100 000.
_MAX_HITS_PER_SIGNAL = 3


@dataclass(frozen=True, slots=True)
class Signature:
    """One row of signatures.yaml, compiled."""

    id: str
    keys: tuple[str, ...]
    tools: tuple[str, ...]
    pattern: re.Pattern[str]
    veto: re.Pattern[str] | None
    command: re.Pattern[str] | None
    points_to: str
    weight: float
    reason: str
    hypervisor: str | None
    provider: str | None
    vendor: str | None
    group: str | None
    suppresses: tuple[str, ...]
    virt_what: bool


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
    flags = re.IGNORECASE
    return Signature(
        id=row["id"],
        keys=tuple(keys),
        tools=tuple(row.get("tools", ())),
        pattern=re.compile(row["match"], flags),
        veto=re.compile(row["not"], flags) if row.get("not") else None,
        command=re.compile(row["command"], flags) if row.get("command") else None,
        points_to=points,
        weight=float(row["weight"]),
        reason=row["reason"],
        hypervisor=row.get("hypervisor"),
        provider=row.get("provider"),
        vendor=row.get("vendor"),
        group=row.get("group"),
        suppresses=tuple(row.get("suppresses", ())),
        virt_what=bool(row.get("virt_what", points in ("virtual", "container"))),
    )


@functools.cache
def signatures() -> tuple[Signature, ...]:
    """All signatures, in file order (loaded once)."""
    text = resources.files("detector").joinpath("signatures.yaml").read_text(encoding="utf-8")
    return tuple(_compile(row) for row in yaml.safe_load(text))


@functools.cache
def _by_key() -> dict[str, tuple[Signature, ...]]:
    table: dict[str, list[Signature]] = {}
    for sig in signatures():
        for key in sig.keys:
            if key != "line":
                table.setdefault(key, []).append(sig)
    return {k: tuple(v) for k, v in table.items()}


@functools.cache
def _line_sigs(tool: str) -> tuple[tuple[Signature, ...], re.Pattern[str] | None]:
    sigs = tuple(s for s in signatures() if "line" in s.keys and tool in s.tools)
    if not sigs:
        return sigs, None
    # One prefilter for the tool: any signature's pattern (^/$ at line bounds); each candidate
    # line is then checked against each signature on its own.
    joined = "|".join(f"(?:{s.pattern.pattern})" for s in sigs)
    return sigs, re.compile(joined, re.IGNORECASE | re.MULTILINE)


def match_facts(facts: list[Fact], source_of: dict[int, str]) -> list[Hit]:
    """Evidence from structured facts (fact index -> source tool in `source_of`)."""
    table = _by_key()
    hits: list[Hit] = []
    counts: dict[str, int] = {}
    for i, fact in enumerate(facts):
        for sig in table.get(fact.key, ()):
            if counts.get(sig.id, 0) >= _MAX_HITS_PER_SIGNAL:
                continue
            if not sig.pattern.search(fact.value):
                continue
            if sig.veto is not None and sig.veto.search(fact.value):
                continue
            counts[sig.id] = counts.get(sig.id, 0) + 1
            hits.append(Hit(sig, source_of.get(i, "paste"), fact.line, fact.text))
    return hits


def scan_lines(tool: str, text: str, start: int, source: str, command: str | None) -> list[Hit]:
    """Evidence from raw lines of one section (dmesg, lspci, lsusb, lsmod, unknown commands)."""
    sigs, prefilter = _line_sigs(tool)
    if prefilter is None:
        return []
    active = tuple(s for s in sigs if s.command is None or (command and s.command.search(command)))
    if not active:
        return []
    hits: list[Hit] = []
    counts: dict[str, int] = {}
    line_start, line_end = 0, -1
    pos, lineno = 0, start
    for m in prefilter.finditer(text):
        if m.start() <= line_end:
            continue  # another hit on a line already checked
        # Search back only to the last known position: linear even on one huge line.
        nl = text.rfind("\n", max(pos, line_end + 1), m.start())
        new_start = nl + 1 if nl >= 0 else max(line_start, line_end + 1)
        lineno += text.count("\n", pos, new_start)
        pos = line_start = new_start
        le = text.find("\n", m.end())
        line_end = le if le >= 0 else len(text)
        line = text[line_start:line_end]
        for sig in active:
            if counts.get(sig.id, 0) >= _MAX_HITS_PER_SIGNAL:
                continue
            if not sig.pattern.search(line) or (sig.veto is not None and sig.veto.search(line)):
                continue
            counts[sig.id] = counts.get(sig.id, 0) + 1
            hits.append(Hit(sig, source, lineno, line))
        if len(counts) == len(active) and all(c >= _MAX_HITS_PER_SIGNAL for c in counts.values()):
            break
    return hits


def dmi_line_facts(text: str, start: int) -> list[Fact]:
    """A kernel log's `DMI: <maker> <product>, BIOS ...` line as a `system.dmi_line` fact."""
    m = re.search(r"(?m)^[^\n]*\bDMI: ([^\n]*)$", text)
    if not m:
        return []
    line = start + text.count("\n", 0, m.start())
    return [Fact("system.dmi_line", m.group(1).strip(), line, m.group(0))]
