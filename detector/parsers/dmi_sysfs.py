"""`/sys/class/dmi/id/*`: `grep . /sys/class/dmi/id/*`, `cat /sys/class/dmi/id/product_name`,
or `head /sys/class/dmi/id/*` (`==> file <==` headers). Returns the same keys as dmidecode.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_FILES = {
    "sys_vendor": "system.manufacturer",
    "product_name": "system.product",
    "product_version": "system.version",
    "product_family": "system.family",
    "bios_vendor": "bios.vendor",
    "bios_version": "bios.version",
    "board_vendor": "board.manufacturer",
    "board_name": "board.product",
    "chassis_vendor": "chassis.manufacturer",
    "chassis_type": "chassis.type",
    "chassis_asset_tag": "chassis.asset",
}
_PATH_LINE = re.compile(r"(?:/sys/(?:class|devices/virtual)/dmi/id/)?(\w+)[:=][ \t]*(.*)$")
_HEAD = re.compile(r"^==>[ \t]*\S*?(\w+)[ \t]*<==$")


def _file_of(command: str | None) -> str | None:
    if not command:
        return None
    names = re.findall(r"dmi/id/(\w+)", command)
    return names[0] if len(names) == 1 else None


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """DMI sysfs values -> DMI facts."""
    facts: list[Fact] = []
    current = _file_of(command)
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        line = raw.strip()
        if not line:
            continue
        head = _HEAD.match(line)
        if head:
            current = head.group(1)
            continue
        m = _PATH_LINE.match(line)
        if m and m.group(1) in _FILES:
            facts.append(Fact(_FILES[m.group(1)], m.group(2).strip(), start + i, raw))
        elif current in _FILES:
            facts.append(Fact(_FILES[current], line, start + i, raw))
    return Parsed(tuple(facts))
