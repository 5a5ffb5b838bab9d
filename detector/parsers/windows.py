"""Windows: `systeminfo`, `Get-ComputerInfo`, `wmic computersystem get manufacturer,model`,
Sysinternals `coreinfo`. Returns `system.manufacturer`, `system.product`, `bios.vendor` and
`windows.hypervisor` (`A hypervisor has been detected`, `Microsoft Hv`, `HYPERVISOR *`) —
which a Windows host with Hyper-V, VBS or WSL2 on shows from its root partition too.
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_KEYS = {
    "system manufacturer": "system.manufacturer",
    "csmanufacturer": "system.manufacturer",
    "system model": "system.product",
    "csmodel": "system.product",
    "bios version": "bios.version",
    "biosmanufacturer": "bios.vendor",
}
_HV = re.compile(
    r"hypervisor has been detected|Microsoft Hv|^HYPERVISOR\s+\*|HyperVisorPresent\s*:\s*True", re.I
)


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """Windows system info -> facts."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:500]):
        key, sep, value = raw.partition(":")
        k = _KEYS.get(key.strip().lower())
        if sep and k and value.strip():
            facts.append(Fact(k, value.strip(), start + i, raw))
        elif _HV.search(raw.strip()):
            facts.append(Fact("windows.hypervisor", raw.strip(), start + i, raw))
    return Parsed(tuple(facts))
