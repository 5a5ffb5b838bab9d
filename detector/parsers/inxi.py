"""`inxi -F` / `inxi -M`: `Machine: Type: Kvm System: QEMU product: Standard PC (Q35 + ICH9, 2009)
v: pc-q35-7.2 ... Mobo: ... BIOS: SeaBIOS`. Fields are `name: value` pairs on one line.
Returns `system.*`, `board.*`, `bios.vendor`, `inxi.type`, `cpu.model`.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

# inxi keys are single lower/Title-case words followed by ':'; values run to the next key.
_PAIR = re.compile(
    r"(?:^|[ \t])(Type|System|product|Mobo|model|BIOS|Kernel|Host|Info|model name)"
    r":[ \t]+([^:\n]*?)(?=[ \t][A-Za-z][\w-]{0,12}:[ \t]|$)"
)
_KEYS = {
    "Type": "inxi.type",
    "System": "system.manufacturer",
    "product": "system.product",
    "Mobo": "board.manufacturer",
    "model": "board.product",
    "BIOS": "bios.vendor",
    "Kernel": "kernel.release",
    "Host": "inxi.host",
    "Info": "cpu.model",
}


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """inxi text -> machine facts."""
    facts: list[Fact] = []
    section = ""
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        head = raw.lstrip()[:10]
        if not raw.startswith((" ", "\t")) and ":" in head:
            section = head.split(":", 1)[0]
        for m in _PAIR.finditer(raw):
            key = _KEYS.get(m.group(1))
            value = m.group(2).strip()
            if not key or not value:
                continue
            if key == "board.product" and section not in ("Machine", ""):
                continue
            if key == "cpu.model" and section != "CPU":
                continue
            facts.append(Fact(key, value, start + i, raw))
    return Parsed(tuple(facts))
