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
    "product_uuid": "system.uuid",
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


_BRACES = re.compile(r"dmi/id/\{([\w,]{1,200})\}")


def _files_of(command: str | None) -> list[str]:
    """The DMI files a command reads, in order (`cat .../sys_vendor .../product_name`,
    `cat /sys/class/dmi/id/{sys_vendor,product_name}`)."""
    if not command:
        return []
    names: list[str] = []
    for m in re.finditer(r"dmi/id/(?:\{([\w,]{1,200})\}|(\w+))", command):
        names.extend(m.group(1).split(",") if m.group(1) else [m.group(2)])
    return names


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """DMI sysfs values -> DMI facts."""
    facts: list[Fact] = []
    files = _files_of(command)
    current = files[0] if len(files) == 1 else None
    lines = text.split("\n")
    if len(files) > 1:
        positional = _positional(files, lines, start)
        if positional is not None:
            return Parsed(positional)
    for i, raw in enumerate(lines):
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


def _positional(files: list[str], lines: list[str], start: int) -> tuple[Fact, ...] | None:
    """`cat` of several DMI files prints one value per line, in the order given: map them
    when the count fits (an empty file prints an empty line; a paste may drop blank ones)."""
    body = list(enumerate(lines))
    while body and not body[-1][1].strip():
        body.pop()
    if any(_HEAD.match(ln.strip()) or (_PATH_LINE.match(ln.strip()) and "/dmi/id/" in ln) for _, ln in body):
        return None  # `head`/`grep` output names its files itself
    if len(body) != len(files):
        body = [(i, ln) for i, ln in body if ln.strip()]
        if len(body) != len(files):
            return None
    return tuple(
        Fact(_FILES[name], ln.strip(), start + i, ln)
        for name, (i, ln) in zip(files, body, strict=True)
        if name in _FILES and ln.strip()
    )
