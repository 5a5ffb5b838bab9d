"""`hostnamectl` (systemd >= 219; `Hardware Vendor`/`Hardware Model` since 249).

Returns `virt.detected` (its `Virtualization:` line), `chassis.type`,
`system.manufacturer`, `system.product`, `kernel.release`.
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed

_KEYS = {
    "virtualization": "virt.detected",
    "chassis": "chassis.type",
    "hardware vendor": "system.manufacturer",
    "hardware model": "system.product",
    "kernel": "kernel.release",
    "firmware version": "bios.version",
}


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """hostnamectl text -> facts."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:60]):
        key, sep, value = raw.partition(":")
        k = _KEYS.get(key.strip().lower())
        if sep and k and value.strip():
            v = value.strip()
            if k == "virt.detected":
                v = v.lower()
            facts.append(Fact(k, v, start + i, raw))
    return Parsed(tuple(facts))
