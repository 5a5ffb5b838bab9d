"""`/proc/self/status`, `/proc/1/status`: returns `status.vxid` (Linux-VServer guests have a
non-zero `VxID`) and `status.envid` (OpenVZ/Virtuozzo containers have `envID` > 0).
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed

_KEYS = {"vxid": "status.vxid", "envid": "status.envid", "s_context": "status.vxid"}


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """status text -> context ids."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:200]):
        key, sep, value = raw.partition(":")
        k = _KEYS.get(key.strip().lower())
        if sep and k:
            facts.append(Fact(k, value.strip(), start + i, raw))
    return Parsed(tuple(facts))
