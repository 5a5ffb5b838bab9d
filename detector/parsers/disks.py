"""`lsblk -o NAME,MODEL`, `smartctl -i`, `hdparm -I`, `ls -l /dev/disk/by-id`: returns
`disk.model` values (`QEMU HARDDISK`, `VBOX HARDDISK`, `Virtual disk`, `Samsung SSD 870`...).
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_KEYED = re.compile(r"^[ \t]*(?:Device Model|Model Number|Product|Model|Vendor)[ \t]*:[ \t]*(.+)$", re.I)
_BY_ID = re.compile(r"\b((?:ata|scsi|nvme|usb|virtio|wwn)-[\w.-]+?)(?:-part\d+)?(?:[ \t]|$|->)")
_LSBLK = re.compile(r"^[ \t]*[|`├└─ -]*(?:sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+)[ \t]+(.+)$")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """disk listings -> `disk.model` facts (distinct)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        for rx in (_KEYED, _BY_ID, _LSBLK):
            m = rx.search(raw)
            if m:
                value = m.group(1).strip()
                if value and value not in seen:
                    seen.add(value)
                    facts.append(Fact("disk.model", value, start + i, raw))
                break
    return Parsed(tuple(facts))
