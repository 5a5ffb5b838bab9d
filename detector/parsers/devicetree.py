"""`cat /proc/device-tree/model` (or `/sys/firmware/devicetree/base/model`): the board the
firmware describes, e.g. `Apple MacBook Air (13-inch, M2, 2022)`, `Raspberry Pi 5 Model B`.
Returns `system.product` (the first non-empty line), read by the same product signatures
as DMI's product name, and the same value as `dt.model`: a board's own device tree names it,
which is firmware a VM does not have (its device tree names the hypervisor's machine).
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """device-tree model text -> `system.product`."""
    for i, raw in enumerate(text.split("\n")[:20]):
        value = raw.replace("\x00", "").strip()
        if value:
            value = value[:200]
            return Parsed((Fact("system.product", value, start + i, raw), Fact("dt.model", value, start + i, raw)))
    return Parsed()
