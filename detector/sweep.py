"""The segment-free sweep: every line of the paste is read for facts that name themselves.

The segmenter's attribution of a line to a tool is a guess. A paste laid out in a way it
does not know (a new prompt shape, `a; b` on one prompt, a quote, a log prefix, a tool with
no parser) must never hide `Product Name: VMware Virtual Platform` or `systemd-detect-virt`
printing `kvm`. So, besides the per-tool parsers, one pass over the whole normalised paste
turns

* `KEY: value`, `KEY=value`, `"KEY": "value"`, `KEY => value` lines whose key is in
  `sweep.yaml` (DMI strings, hypervisor vendor, inventory tools' own virtual/physical fields,
  cloud-init's `DMI_PRODUCT_NAME=`, bench scripts' `Virtualization : KVM`...) into facts, and
* the word after a `systemd-detect-virt` / `virt-what` command line (whatever its prompt)
  into `virt.detected` / `virt_what.output`.

Self-identifying raw lines (`Hypervisor detected: KVM`, virtio/VMware/Hyper-V devices,
bare DMI values such as a lone `VMware Virtual Platform` line) are line signatures marked
`anywhere` in `signatures.yaml`, scanned over the whole paste by `rules.scan_lines("*", ...)`.

Precedence with the parsers (see `merge`): a parser's fact on a line wins over the sweep's
fact on the same line (the parser knows the record the line is in); for keys whose meaning
depends on the record (`Manufacturer:` in a dmidecode memory record), the sweep leaves the
lines inside that tool's sections to its parser. Everything else the sweep found is kept.
Facts whose shape alone says what they are (`free_facts`: a column table under its header,
fastfetch's JSON modules, fwupd's tree root) and the kernel's `DMI:`/`Hardware name:` line
are kept wherever they are, unless a parser read the same line.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

import yaml

from detector.parsers import Fact

MAX_SWEEP_FACTS = 400


@dataclass(frozen=True, slots=True)
class _Key:
    fact: str
    owned_by: frozenset[str]


def _canon(key: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", key.strip().lower())


@functools.cache
def _vocabulary() -> tuple[dict[str, _Key], re.Pattern[str]]:
    text = resources.files("detector").joinpath("sweep.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    table: dict[str, _Key] = {}
    for row in yaml.load(text, Loader=loader):  # noqa: S506 - a safe loader
        k = _Key(row["fact"], frozenset(row.get("owned_by", ())))
        for name in row["keys"]:
            table[_canon(str(name))] = k
    # One alternation of every key, spelled with any of ` _.-` between its words.
    alts = sorted(
        (r"[\s_.\-]+".join(re.escape(w) for w in name.split(" ")) for name in table), key=len, reverse=True
    )
    pattern = re.compile(
        # Quotes include Markdown's backticks: "- `/sys/class/dmi/id/sys_vendor`: `QEMU`".
        r"(?im)^[ \t]*(?:[-*•][ \t]+)?(?:cat[ \t]+)?[\"'`]?"
        r"(?:/sys/(?:class|devices/virtual)/dmi/id/|[^\n]{0,100}?\b(?:Detected|Unknown)[ \t]+)?"
        # msinfo32 and other Windows exports separate key and value by a tab.
        r"(?P<key>" + "|".join(alts) + r")[\"'`]?(?:[ \t]*(?:=>|:|=|\|)[ \t]*|\t+)[\"'`]?"
        r"(?P<value>[^\"'`\n]{0,200}?)[\"'`]?[ \t]*,?[ \t]*$"
    )
    return table, pattern


# The word a virt tool printed, on the line after its command (any prompt, or none).
_VIRT_WORD = re.compile(
    r"(?m)^[^\n]{0,120}?\b(?P<tool>systemd-detect-virt|virt-what)\b[^\n;&|]{0,60}[ \t]*\n"
    r"(?:[ \t]*\n)?[ \t]*(?P<word>[a-z][a-z0-9_-]{1,24})[ \t]*$"
)


# ohai's `"virtualization": {"systems": {...}, "system": "openstack", "role": "guest"}`: the
# keys `system` and `role` mean something only inside that block.
_OHAI = re.compile(r'"virtualization"[ \t]*:[ \t]*\{')
_OHAI_FIELD = re.compile(r'"(?P<k>system|role)"[ \t]*:[ \t]*"(?P<v>[\w/-]{1,40})"')

# Column tables (`wmic baseboard get Manufacturer,Product`, `Get-CimInstance | Format-Table`,
# osquery's `| hardware_vendor | hardware_model |`): a header of known column names, and the
# row under it, cut at the header's column offsets (or at `|`).
_COLUMNS = {
    "manufacturer": "system.manufacturer",
    "vendor": "system.manufacturer",
    "hardware_vendor": "system.manufacturer",
    "sys_vendor": "system.manufacturer",
    "product": "system.product",
    "model": "system.product",
    "hardware_model": "system.product",
    "product_name": "system.product",
    "systemfamily": "system.family",
    "smbiosbiosversion": "bios.version",
}
# A header names a maker column; found by its word (a scan in C), then read as its whole line.
_TABLE_WORD = re.compile(r"(?i)\b(?:manufacturer|hardware_vendor|sys_vendor|vendor)\b")
_TABLE_HEADER_MAX = 400  # a column header is a short line


def _header_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the short lines holding a maker column's name, at most 40, in order."""
    found, pos = 0, 0
    while found < 40 and (m := _TABLE_WORD.search(text, pos)) is not None:
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        if end < 0:
            end = len(text)
        pos = end + 1
        if end - start <= _TABLE_HEADER_MAX:
            found += 1
            yield start, end
_CELL_SPLIT = re.compile(r"\S+(?: \S+)*")


def _table_facts(text: str) -> list[Fact]:
    out: list[Fact] = []
    for h_start, h_end in _header_lines(text):
        header = text[h_start:h_end]
        piped = "|" in header
        if piped:
            names = [c.strip().lower() for c in header.strip().strip("|").split("|")]
        else:
            # Columns are two or more blanks apart; a single blank stays inside a cell.
            starts = [c.start() for c in _CELL_SPLIT.finditer(header)]
            names = [header[a:].split()[0].lower() if header[a:].split() else "" for a in starts]
            if any(" " in header[a:b].strip() for a, b in zip(starts, [*starts[1:], len(header)], strict=True)):
                continue  # a prose line that mentions a vendor, not a header
        if len(names) < 2 or sum(nm in _COLUMNS for nm in names) < 1 or not any(
            nm in _COLUMNS and _COLUMNS[nm] == "system.manufacturer" for nm in names
        ):
            continue
        rest = text[h_end + 1 :]
        row_line = None
        for k, cand in enumerate(rest.split("\n", 4)[:4]):
            if cand.strip() and not set(cand.strip()) <= set("-+|= "):
                row_line = (k, cand)
                break
        if row_line is None:
            continue
        k, row = row_line
        line = text.count("\n", 0, h_start) + 2 + k
        if piped:
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
        else:
            cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], len(row) + 1], strict=True)]
        for name, cell in zip(names, cells, strict=False):
            key = _COLUMNS.get(name)
            if key and cell:
                out.append(Fact(key, cell, line, row))
    return out


def _ohai_facts(text: str) -> list[Fact]:
    out: list[Fact] = []
    for n, m in enumerate(_OHAI.finditer(text)):
        if n >= 5:
            break
        block = text[m.end() : m.end() + 600]
        # Skip the nested `systems` object: its entries are every technology seen, host or guest.
        inner = re.sub(r'"systems"[ \t]*:[ \t]*\{[^{}]*\}', "", block)
        inner = inner.split("}", 1)[0]
        for f in _OHAI_FIELD.finditer(inner):
            at = m.end() + block.find(f.group(0))
            line = text.count("\n", 0, at) + 1
            key = "inventory.virt" if f.group("k") == "system" else "inventory.role"
            out.append(Fact(key, f.group("v"), line, f.group(0)))
    return out


def _value_below(text: str, m: re.Match[str]) -> str:
    """The plain scalar on the line under an empty `key:` line, when it is indented deeper."""
    if text.find(":", m.start(), m.end()) < 0:
        return ""  # only `key:` opens a nested value (not `key=` or `key |`)
    start = m.end() + 1
    end = text.find("\n", start)
    nxt = text[start : end if end >= 0 else len(text)]
    indent = len(m.group(0)) - len(m.group(0).lstrip(" \t"))
    stripped = nxt.strip()
    if (
        not stripped
        or len(nxt) - len(nxt.lstrip(" \t")) <= indent
        or ":" in stripped
        or stripped[0] in "-#[{|>"
        or len(stripped) > 120
    ):
        return ""
    return stripped


# fastfetch's JSON (`fastfetch --format json`): `{"type": "Host", "result": {"name": ...,
# "vendor": ...}}`; the field names mean something only inside their module's block.
_FASTFETCH = re.compile(r'"type"[ \t]*:[ \t]*"(?P<module>Host|Board|Bios)"[ \t]*,[ \t\n]*"result"[ \t]*:[ \t]*\{')
_FASTFETCH_FIELD = re.compile(r'"(?P<k>name|vendor|family)"[ \t]*:[ \t]*"(?P<v>[^"\n]{1,120})"')
_FASTFETCH_KEYS = {
    ("Host", "name"): "system.product",
    ("Host", "vendor"): "system.manufacturer",
    ("Host", "family"): "system.family",
    ("Board", "name"): "board.product",
    ("Board", "vendor"): "board.manufacturer",
    ("Bios", "vendor"): "bios.vendor",
}


def _fastfetch_facts(text: str) -> list[Fact]:
    out: list[Fact] = []
    for n, m in enumerate(_FASTFETCH.finditer(text)):
        if n >= 6:
            break
        block = text[m.end() : m.end() + 800].split("}", 1)[0]
        for f in _FASTFETCH_FIELD.finditer(block):
            key = _FASTFETCH_KEYS.get((m.group("module"), f.group("k")))
            if key:
                at = m.end() + f.start()
                out.append(Fact(key, f.group("v").strip(), text.count("\n", 0, at) + 1, f.group(0)))
    return out


# `fwupdmgr get-devices` draws a tree whose root is the machine itself, named by its DMI
# maker and product (`Dell Inc. XPS 15 9570`), above a `│` line and the first `├─` branch
# (box-drawing characters survive as `?` or mojibake in some pastes).
_FWUPD_ROOT = re.compile(
    r"(?m)^[ \t]*(?P<name>[A-Za-z0-9][^\n│├└─?]{2,80}?)[ \t]*\n"
    r"[ \t]*(?:│|\?|â”‚)[ \t]*\n[ \t]*(?:├─|└─|\?\?|â”œâ”€|â””â”€)"
)


def _fwupd_facts(text: str) -> list[Fact]:
    m = _FWUPD_ROOT.search(text)
    if m is None:
        return []
    return [Fact("system.dmi_line", m.group("name"), text.count("\n", 0, m.start("name")) + 1, m.group("name"))]


def _quick_reject(text: str) -> bool:
    return ":" not in text and "=" not in text and "|" not in text and "\t" not in text and "virt" not in text


def facts(text: str) -> list[Fact]:
    """Facts of every `KEY: value` line of the vocabulary, and virt tools' words, anywhere."""
    if _quick_reject(text):
        return []
    table, pattern = _vocabulary()
    out: list[Fact] = []
    line, last = 1, 0
    for m in pattern.finditer(text):
        value = m.group("value").strip()
        below = 0
        if not value:
            # Salt's nested output puts the value on the next, deeper-indented line
            # (`manufacturer:` / `    Red Hat`).
            value = _value_below(text, m)
            below = 1
            if not value:
                continue
        key = table.get(_canon(m.group("key")))
        if key is None:
            continue
        line += text.count("\n", last, m.start())
        last = m.start()
        out.append(Fact(key.fact, value, line + below, m.group(0)))
        if len(out) >= MAX_SWEEP_FACTS:
            break
    if '"virtualization"' in text:
        out += _ohai_facts(text)
    line, last = 1, 0
    for m in _VIRT_WORD.finditer(text):
        start = m.start("word")
        line += text.count("\n", last, start)
        last = start
        key = "virt.detected" if m.group("tool") == "systemd-detect-virt" else "virt_what.output"
        out.append(Fact(key, m.group("word"), line, m.group("word")))
    return out


# `fwupdtool hwids`: the machine's own SMBIOS strings under "Computer Information", where a
# bare `Manufacturer:` is the system's.
_HWIDS = re.compile(r"(?m)^[ \t]*Computer Information[ \t]*\n[ \t]*-{5,}[ \t]*\n")
_HWIDS_FIELD = re.compile(r"(?m)^[ \t]*(?P<k>Manufacturer|ProductName|Family|BaseboardManufacturer)[ \t]*:[ \t]*(?P<v>[^\n]{1,120})$")
_HWIDS_KEYS = {
    "Manufacturer": "system.manufacturer",
    "ProductName": "system.product",
    "Family": "system.family",
    "BaseboardManufacturer": "board.manufacturer",
}


def _hwids_facts(text: str) -> list[Fact]:
    m = _HWIDS.search(text)
    if m is None:
        return []
    block = text[m.end() : m.end() + 2000].split("\n\n", 1)[0]
    base = text.count("\n", 0, m.end()) + 1
    return [
        Fact(_HWIDS_KEYS[f.group("k")], f.group("v").strip(), base + block.count("\n", 0, f.start()), f.group(0))
        for f in _HWIDS_FIELD.finditer(block)
    ]


def free_facts(text: str) -> list[Fact]:
    """Facts whose shape alone says what they are (column tables under a header, fastfetch's
    JSON modules, fwupd's tree root and its hwids block): no tool's section owns them, so `merge`'s ownership
    rule does not apply."""
    out = _table_facts(text)
    if "Computer Information" in text:
        out += _hwids_facts(text)
    if '"type"' in text:
        out += _fastfetch_facts(text)
    if "─" in text or "??" in text or "â”" in text:
        out += _fwupd_facts(text)
    return out


@functools.cache
def system_makers() -> dict[str, frozenset[str]]:
    """fact -> the hardware vendors its value may stand for (rows with `system_makers`)."""
    text = resources.files("detector").joinpath("sweep.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rows = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    return {r["fact"]: frozenset(r["system_makers"]) for r in rows if "system_makers" in r}


@functools.cache
def _owned_by() -> dict[str, frozenset[str]]:
    # A fact may come from several rows of sweep.yaml (`system.product` from `Product Name`
    # and from `instance-type`): its owners are all of theirs.
    table, _ = _vocabulary()
    owners: dict[str, frozenset[str]] = {}
    for k in table.values():
        owners[k.fact] = owners.get(k.fact, frozenset()) | k.owned_by
    return owners


def owning_tools() -> frozenset[str]:
    """Every tool that owns some key (its sections are remembered for `merge`)."""
    return frozenset(t for tools in _owned_by().values() for t in tools)


def merge(parsed: list[Fact], swept: Iterable[Fact], spans: list[tuple[int, int, str]]) -> list[Fact]:
    """The sweep's facts that add something: not on a line a parser already read, and not
    inside a section of a tool that owns the key. `spans`: (first line, last line, tool)."""
    taken = {f.line for f in parsed}
    owned = _owned_by()
    starts = [a for a, _, _ in spans]
    out: list[Fact] = []
    for f in swept:
        if f.line in taken:
            continue
        tools = owned.get(f.key, frozenset())
        if tools and spans:
            # Sections come in line order and never overlap: the one holding the line, if any.
            i = bisect.bisect_right(starts, f.line) - 1
            if i >= 0 and spans[i][1] >= f.line and spans[i][2] in tools:
                continue
        out.append(f)
    return out
