"""`ethtool -i IFACE`: returns `net.driver` (`driver: vmxnet3`). A host's bridge-side
devices answer with their own drivers (`tun` on vnet0/tap, `bridge`, `veth`), never with a
guest's paravirtual NIC driver, so the driver alone says which side the paste is from.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_DRIVER = re.compile(r"^[ \t]*driver:[ \t]*([\w.-]{1,64})[ \t]*$")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """ethtool -i text -> `net.driver` facts valued `driver` (one per `driver:` line)."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        m = _DRIVER.match(raw)
        if m:
            facts.append(Fact("net.driver", m.group(1).lower(), start + i, raw))
    return Parsed(tuple(facts))
