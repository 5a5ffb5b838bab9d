"""`lsblk -o NAME,MODEL`, `smartctl -i`, `hdparm -I`, `ls -l /dev/disk/by-id`: returns
`disk.model` values (`QEMU HARDDISK`, `VBOX HARDDISK`, `Virtual disk`, `Samsung SSD 870`...),
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
    r"^[ \t]*[|`├└─ -]*(?:sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)[ \t]+(.+)$"
)


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """disk listings -> `disk.model` facts (distinct)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
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
