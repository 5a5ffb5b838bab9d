"""`/proc/cpuinfo` on x86 (`flags`), ARM (`Features`, `CPU implementer`), POWER (`platform`,
`model`, `machine`), s390x (`vendor_id : IBM/S390`) and ia64.

Only the first occurrence of each key matters (all CPUs of one machine say the same), so a
72-CPU dump costs one regex pass. Truncated output is fine: a cut-off `flags` line is kept
but marked partial (`cpu.flags_partial`) so a missing `hypervisor` in it proves nothing.
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_LINE = re.compile(
    r"(?m)^[ \t]*(flags|features|vendor_id|vendor|model name|cpu model|cpu|platform|model|machine|"
    r"hardware|cpu implementer|firmware|arch)[ \t]*:[ \t]*([^\n]*)$",
    re.IGNORECASE,
)
_KEYS = {
    "flags": "cpu.flags",
    "features": "cpu.features",
    "vendor_id": "cpu.vendor_id",
    "vendor": "cpu.vendor_id",
    "model name": "cpu.model",
    "cpu model": "cpu.model",
    "cpu": "cpu.model",
    "platform": "cpu.platform",
    "model": "cpu.machine",
    "machine": "cpu.machine",
    "hardware": "cpu.machine",
    "cpu implementer": "cpu.implementer",
    "firmware": "cpu.firmware",
    "arch": "cpu.arch",
}
# Flags every x86-64 CPU has since ~2008; a line with all of them was not cut off early.
_BASE_FLAGS = frozenset(("fpu", "tsc", "msr", "pae", "apic", "cmov", "sse", "sse2"))


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """cpuinfo text -> CPU facts (first value of each key)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    pos, line = 0, start
    for m in _LINE.finditer(text):
        key = _KEYS[m.group(1).lower()]
        if key in seen:
            continue
        line += text.count("\n", pos, m.start())
        pos = m.start()
        value = m.group(2).strip()
        if key == "cpu.model" and m.group(1).lower() == "cpu" and not value:
            continue
        if key == "cpu.machine" and value.isdigit():
            continue  # x86 `model : 85` is a number, not a machine
        seen.add(key)
        facts.append(Fact(key, value, line, m.group(0)))
        if key == "cpu.flags":
            flags = set(value.split())
            is_last = text.find("\n", m.end()) == -1
            if is_last or not flags >= _BASE_FLAGS:
                facts.append(Fact("cpu.flags_partial", "yes", line, m.group(0)))
    return Parsed(tuple(facts))
