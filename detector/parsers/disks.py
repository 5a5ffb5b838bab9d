"""`lsblk -o NAME,MODEL`, `smartctl -i`, `hdparm -I`, `ls -l /dev/disk/by-id`, `nvme list`,
`nvme id-ctrl` (`mn :`): returns
`disk.model` values (`QEMU HARDDISK`, `VBOX HARDDISK`, `Virtual disk`, `Samsung SSD 870`...),
`disk.vendor` (lsblk's VENDOR column: `VMware`, `QEMU`, `Msft`, `NECVMWar`...),
and `disk.detail` for what only a real drive answers (SMART capability, rotation rate, WWN,
NVMe SMART/health fields).
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_KEYED = re.compile(
    r"^[ \t]*(?:Device Model|Disk model|Model Family|Model Number|Product|Model|Vendor|mn)[ \t]*:[ \t]*(.+)$", re.I
)
# `smartctl --json`: "model_name": "…", "product": "…" (SCSI), "vendor": "…".
_JSON_KEYED = re.compile(r'^[ \t]*"(model_name|product|vendor)"[ \t]*:[ \t]*"([^"\n]{1,120})"')
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


# `nvme list`: `Node  [Generic]  SN  Model  Namespace  Usage  Format  FW Rev`, then a row of
# dashes that gives each column's exact width (the serial column is dropped from evidence).
_NVME_HEAD = re.compile(r"^[ \t]*Node[ \t]+(?:Generic[ \t]+)?SN[ \t]+Model[ \t]+Namespace\b")
_NVME_DASHES = re.compile(r"^[ \t]*-{3,}(?:[ \t]+-{3,}){3,}[ \t]*$")
_NVME_ROW = re.compile(r"^[ \t]*/dev/nvme\d+(?:n\d+)?[ \t]")
# The same row with its spaces squeezed: node, [generic], serial, model up to the namespace id.
_NVME_SQUEEZED = re.compile(
    r"^[ \t]*(/dev/nvme\d+(?:n\d+)?)[ \t]+(?:/dev/ng\d+n\d+[ \t]+)?\S+[ \t]+(\S[^\n]{0,80}?)[ \t]+(?:0x[0-9a-f]+|\d+)[ \t]+\d"
)


def _nvme_cells(header: str, dashes: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(start, end) of the SN and Model columns, from the dash row under the header."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]
    names = header.split()
    if "SN" not in names or "Model" not in names or len(spans) < len(names) - 1:
        return None  # `FW Rev` is two words over one column
    return spans[names.index("SN")], spans[names.index("Model")]


def _nvme_row(raw: str, cells: tuple[tuple[int, int], tuple[int, int]] | None) -> tuple[str, str] | None:
    """(model, the row with its serial masked) of one `nvme list` row, or None."""
    if cells is not None:
        (sn0, sn1), (m0, m1) = cells
        model = raw[m0 : m1 + 1].strip()
        if model and (m0 == 0 or raw[m0 - 1] in " \t"):
            return model, raw[:sn0] + "[serial]" + raw[sn1:]
    m = _NVME_SQUEEZED.match(raw)
    if m:
        return m.group(2).strip(), f"{m.group(1)} [serial] {m.group(2).strip()}"
    return None


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """disk listings -> `disk.model` / `disk.vendor` / `disk.detail` facts (distinct)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    columns: list[tuple[str, int, int]] = []
    nvme_head: str | None = None
    nvme_cells: tuple[tuple[int, int], tuple[int, int]] | None = None
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        if _NVME_HEAD.match(raw):
            nvme_head, nvme_cells = raw, None
            continue
        if nvme_head is not None and nvme_cells is None and _NVME_DASHES.match(raw):
            nvme_cells = _nvme_cells(nvme_head, raw)
            continue
        if _NVME_ROW.match(raw):
            row = _nvme_row(raw, nvme_cells)
            if row is not None:
                model, shown = row
                if model not in seen:
                    seen.add(model)
                    facts.append(Fact("disk.model", model, start + i, shown))
                continue
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
        m = _JSON_KEYED.match(raw)
        if m:
            key = "disk.vendor" if m.group(1) == "vendor" else "disk.model"
            if f"{key}={m.group(2)}" not in seen:
                seen.add(f"{key}={m.group(2)}")
                facts.append(Fact(key, m.group(2).strip(), start + i, raw))
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
