"""`dmidecode`, `dmidecode -t system|bios|baseboard|chassis|processor|11`, `dmidecode -s KEYWORD`.

Accepts the output with or without its `# dmidecode x.y` header, with tabs turned into
spaces (records are keyed by their title line, fields by `Key: value` at any indentation),
and cut off anywhere. Returns `system.*`, `bios.*`, `board.*`, `chassis.*`, `processor.*`,
`oem.string`, `bios.item` facts, and `dmi.unavailable` when dmidecode could not read
the table (containers, no SMBIOS, no root).
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_TITLES = {
    "bios information": "bios",
    "system information": "system",
    "base board information": "board",
    "base board info": "board",
    "chassis information": "chassis",
    "processor information": "processor",
    "oem strings": "oem",
    "system configuration options": "oem",
}
_FIELDS = {
    "manufacturer": "manufacturer",
    "vendor": "vendor",
    "product name": "product",
    "product": "product",
    "version": "version",
    "family": "family",
    "type": "type",
    "asset tag": "asset",
    "sku number": "sku",
    "uuid": "uuid",
}
_SKIP_RECORDS = {"processor": {"type", "family"}}  # CPU "Version:" is the model string; keep it
_UNAVAILABLE = re.compile(
    r"/dev/mem|No SMBIOS nor DMI|Permission denied|no output|exit status|SMBIOS entry point missing|"
    r"Operation not permitted|command not found|No such file",
    re.IGNORECASE,
)
_S_KEYWORDS = {
    "system-manufacturer": "system.manufacturer",
    "system-product-name": "system.product",
    "system-version": "system.version",
    "system-family": "system.family",
    "system-uuid": "system.uuid",
    "bios-vendor": "bios.vendor",
    "bios-version": "bios.version",
    "baseboard-manufacturer": "board.manufacturer",
    "baseboard-product-name": "board.product",
    "chassis-manufacturer": "chassis.manufacturer",
    "chassis-type": "chassis.type",
    "chassis-asset-tag": "chassis.asset",
    "processor-version": "processor.version",
}
# `dmidecode -t TYPE | grep ...` drops the record titles: the command names the record.
_TYPES = {
    "bios": "bios",
    "0": "bios",
    "system": "system",
    "1": "system",
    "baseboard": "board",
    "2": "board",
    "chassis": "chassis",
    "3": "chassis",
    "processor": "processor",
    "4": "processor",
}
_TYPE_ARG = re.compile(r"(?:-t|--type)(?:[ \t]+|=)([\w,]+)")
_TITLE_LIKE = re.compile(
    r"^[A-Z][\w /()-]*(?:Information|Strings|Options|Device|Array|Controller|Port|Slot)$"
)


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """dmidecode text -> DMI facts."""
    facts: list[Fact] = []
    warnings: list[str] = []
    if command:
        m = re.search(r"-s[ \t]+([\w-]+)", command)
        if m and m.group(1) in _S_KEYWORDS:
            key = _S_KEYWORDS[m.group(1)]
            for i, line in enumerate(text.split("\n")):
                if line.strip():
                    facts.append(Fact(key, line.strip(), start + i, line))
                    break
            return Parsed(tuple(facts))
    record, guessed = _record_from_command(command)
    taken: set[str] = set()
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            warnings.append("dmidecode: too many fields, rest ignored")
            break
        line = raw.strip()
        if not line:
            continue
        lineno = start + i
        if line.startswith("Handle 0x"):
            record, guessed = "other", False
            continue
        low = line.lower()
        if low in _TITLES:
            record, guessed = _TITLES[low], False
            continue
        if low == "ipmi device information":
            # SMBIOS type 38: a BMC answers IPMI, which only physical servers have.
            facts.append(Fact("dmi.ipmi", line, lineno, raw))
            record = "other"
            continue
        key, sep, value = line.partition(":")
        if not sep:
            if _TITLE_LIKE.match(line):
                record = "other"
            elif record == "bios":
                facts.append(Fact("bios.item", line, lineno, raw))
            elif _UNAVAILABLE.search(line):
                facts.append(Fact("dmi.unavailable", line, lineno, raw))
            continue
        value = value.strip()
        k = key.strip().lower()
        if record == "oem" and k.startswith("string"):
            facts.append(Fact("oem.string", value, lineno, raw))
            continue
        if (line.startswith(("/", "#")) or "dmidecode" in low) and _UNAVAILABLE.search(line):
            facts.append(Fact("dmi.unavailable", line, lineno, raw))
            continue
        field = _FIELDS.get(k)
        if field is None or not value or field in _SKIP_RECORDS.get(record, ()):
            continue
        if record == "other" and field not in ("manufacturer", "product"):
            continue
        if guessed:
            # Titles grepped away and no single `-t` type named: in SMBIOS order the first
            # Manufacturer/Product Name is the system's (type 1 precedes board, chassis,
            # CPU and DIMMs); later ones (a DIMM's "Samsung") belong to nobody we know.
            if field not in ("manufacturer", "product") or field in taken:
                continue
            taken.add(field)
            facts.append(Fact(f"dmi.grep_{field}", value, lineno, raw))
            continue
        facts.append(Fact(f"{record}.{field}", value, lineno, raw))
    return Parsed(tuple(facts), tuple(warnings))


def _record_from_command(command: str | None) -> tuple[str, bool]:
    """The record a title-less section belongs to, and whether that is only a guess.

    `dmidecode -t baseboard | grep ...` -> ("board", False); several types, or none named,
    with a grep filter -> ("other", True): the caller keeps only the first maker/product.
    """
    if not command or "dmidecode" not in command:
        return "other", False
    types = [t for arg in _TYPE_ARG.findall(command) for t in arg.lower().split(",") if t]
    if len(types) == 1:
        return _TYPES.get(types[0], "unknown"), False
    return "other", "grep" in command or "findstr" in command
