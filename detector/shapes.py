"""Shapes that say what they are: facts read by their layout, wherever they sit in a paste.

A column table under a header of known column names, fastfetch's JSON modules, the root of
`fwupdmgr get-devices`'s tree and `fwupdtool hwids`'s "Computer Information" block name the
machine by their shape alone. No tool's section owns them (see `sweep.merge`): the detector
keeps them unless a parser read the same line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from detector.parsers import Fact

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
_TABLE_HINTS = ("anufacturer", "ANUFACTURER", "endor", "ENDOR")  # every _TABLE_WORD holds one


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
_UNDERLINE = re.compile(r"[ \t]*-+(?: +-+)+[ \t]*(?=\n|$)")


def _table_facts(text: str) -> list[Fact]:
    out: list[Fact] = []
    for h_start, h_end in _header_lines(text):
        header = text[h_start:h_end]
        piped = "|" in header
        under = _UNDERLINE.match(text, h_end + 1)
        if piped:
            names = [c.strip().lower() for c in header.strip().strip("|").split("|")]
        elif under is not None:
            # PowerShell's Format-Table underlines each column with dashes, one blank apart:
            # the dash runs, not the blanks of the header, give the columns.
            starts = [d.start() for d in re.finditer(r"-+", under.group(0))]
            names = [header[a:b].strip().lower() for a, b in zip(starts, [*starts[1:], len(header)], strict=True)]
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
                if key == "system.product":
                    # The Host module is what fastfetch's text output prints as `Host:`.
                    out.append(Fact("system.dmi_line", f.group("v").strip(), text.count("\n", 0, at) + 1, f.group(0)))
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


# `fwupdtool hwids` (a dashed rule under the heading) and Steam's system information
# (`Computer Information:`, then `Manufacturer:`, `Model:`, `Form Factor:`): the machine's own
# SMBIOS strings, where a bare `Manufacturer:` is the system's, not a GPU's or a DIMM's.
_HWIDS = re.compile(r"(?m)^[ \t]*Computer Information(?:[ \t]*\n[ \t]*-{5,}|:)[ \t]*\n")
_HWIDS_FIELD = re.compile(
    r"(?m)^[ \t]*(?P<k>Manufacturer|ProductName|Model|Family|BaseboardManufacturer)[ \t]*:[ \t]*(?P<v>[^\n]{1,120})$"
)
_HWIDS_KEYS = {
    "Manufacturer": "system.manufacturer",
    "ProductName": "system.product",
    "Model": "system.product",
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


def facts(text: str) -> list[Fact]:
    """Facts whose shape alone says what they are, anywhere in the normalised paste."""
    # (plain substring tests run in C; the case-insensitive header search only when one hits)
    out = _table_facts(text) if any(w in text for w in _TABLE_HINTS) else []
    if "Computer Information" in text:
        out += _hwids_facts(text)
    if '"type"' in text:
        out += _fastfetch_facts(text)
    if "─" in text or "??" in text or "â”" in text:
        out += _fwupd_facts(text)
    return out


