"""`lsblk -o NAME,MODEL`, `smartctl -i`, `hdparm -I`, `ls -l /dev/disk/by-id`: returns
`disk.model` values (`QEMU HARDDISK`, `VBOX HARDDISK`, `Virtual disk`, `Samsung SSD 870`...),
`disk.vendor` (lsblk's VENDOR column: `VMware`, `QEMU`, `Msft`, `NECVMWar`...),
and `disk.detail` for what only a real drive answers (SMART capability, rotation rate, WWN,
NVMe SMART/health fields).
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_KEYED = re.compile(
    r"^[ \t]*(?:Device Model|Model Family|Model Number|Product|Model|Vendor)[ \t]*:[ \t]*(.+)$", re.I
)
_BY_ID = re.compile(r"\b((?:ata|scsi|nvme|usb|virtio|wwn)-[\w.-]+?)(?:-part\d+)?(?:[ \t]|$|->)")
_DETAIL = re.compile(
    r"^[ \t]*(?:SMART support is:[ \t]+Available|Rotation Rate:[ \t]+\d+ rpm|Nominal Media Rotation Rate:[ \t]+\d+"
    r"|LU WWN Device Id:|Logical Unit WWN Device Identifier|SMART/Health Information|Percentage Used:"
    r"|IEEE OUI Identifier:)",
    re.I,
)
_LSBLK = re.compile(
    r"^[ \t]*[|`├└─ -]*(?:sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|sr\d+|nvme\d+n\d+|mmcblk\d+)[ \t]+(.+)$"
)


# `lsblk -o NAME,SIZE,MODEL,VENDOR`: a header of upper-case column names.
_LSBLK_HEAD = re.compile(r"^[ \t]*NAME[ \t]+[A-Z:,%-]+(?:[ \t]+[A-Z:,%-]+)*[ \t]*$")
_COLUMNS = {"MODEL": "disk.model", "VENDOR": "disk.vendor"}


def _columns(header: str) -> list[tuple[str, int, int]]:
    """(fact key, start, end) of the MODEL/VENDOR columns, from the header's word offsets.

    lsblk left-aligns text columns under their header word, so a column runs from its
    header word to the next header word (the last one to the end of the line).
    """
    words = [(m.group(), m.start()) for m in re.finditer(r"[A-Z:,%-]+", header)]
    out = []
    for k, (word, begin) in enumerate(words):
        if word in _COLUMNS:
            end = words[k + 1][1] if k + 1 < len(words) else 10_000
            out.append((_COLUMNS[word], begin, end))
    return out


def _lsblk_row(raw: str, columns: list[tuple[str, int, int]]) -> list[tuple[str, str]] | None:
    """The MODEL/VENDOR cells of one lsblk row, or None when the row does not line up
    (spaces squeezed by a chat client): the caller falls back to the whole row."""
    out = []
    for key, begin, end in columns:
        if len(raw) > begin and begin > 0 and raw[begin - 1] not in " \t":
            return None  # the cell does not start where its header does
        cell = raw[begin:end]
        if end < len(raw) and cell and cell[-1] not in " \t" and raw[end] not in " \t":
            return None  # a word runs across the column boundary
        out.append((key, cell.strip()))
    return out


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """disk listings -> `disk.model` / `disk.vendor` / `disk.detail` facts (distinct)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    columns: list[tuple[str, int, int]] = []
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        if _LSBLK_HEAD.match(raw):
            columns = _columns(raw)
            continue
        if columns and _LSBLK.match(raw):
            cells = _lsblk_row(raw, columns)
            if cells is not None:
                for key, value in cells:
                    if value and f"{key}={value}" not in seen:
                        seen.add(f"{key}={value}")
                        facts.append(Fact(key, value, start + i, raw))
                continue
        if _DETAIL.match(raw):
            key = raw.split(":", 1)[0].strip().lower()
            if key not in seen:
                seen.add(key)
                facts.append(Fact("disk.detail", raw.strip(), start + i, raw))
            continue
        for rx in (_KEYED, _BY_ID, _LSBLK):
            m = rx.search(raw)
            if m:
                value = m.group(1).strip()
                if value and value not in seen:
                    seen.add(value)
                    facts.append(Fact("disk.model", value, start + i, raw))
                break
    return Parsed(tuple(facts))
