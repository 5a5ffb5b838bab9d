"""`lshw` / `lshw -short`: what the machine and its devices say they are.

Full `lshw`: the top node's `product:`/`vendor:` describe the machine (`system.*`), the
`*-core` node the board (`board.*`); `*-display`/`*-network`/`*-disk`/`*-storage` nodes
give `gpu.model`, `nic.model`, `disk.model` (vendor + product) and a network node's
`configuration: driver=...` gives `net.driver`.
`lshw -short` / `-businfo` (`H/W path  Device  Class  Description`): the `system` row is the product,
the first `bus` row the board, `disk`/`storage`/`display`/`network` rows the devices.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_NODE_FACT = {
    "display": "gpu.model",
    "network": "nic.model",
    "disk": "disk.model",
    **dict.fromkeys(("storage", "scsi", "sata", "sas", "raid", "nvme", "ide"), "disk.model"),
}
# Nodes that are parts, never the machine: `lshw -C memory` starts at `*-firmware` or `*-memory`,
# whose banks' vendor is the DIMM's maker (Kingston, Samsung), not the system's.
_PART_NODES = frozenset(
    ["firmware", "memory", "bank", "cache", "cpu", "processor", "pci", "usb", "isa", "cdrom", "multimedia", "input", "serial", "generic", "communication", "power", "battery", "volume", "bridge"]
)
_SHORT_CLASSES = "system|bus|memory|processor|bridge|storage|disk|display|network|input|multimedia|communication|generic|volume|power|tape|printer"
# Path (optional), device (optional), class word, description. Class words are lower case
# in lshw; bounded single-token groups keep the match linear.
_SHORT_ROW = re.compile(
    r"^[ \t]*(?:/[\w./:-]{0,200}[ \t]+)?(?:[\w./:@-]{1,200}[ \t]+)??"
    r"(" + _SHORT_CLASSES + r")[ \t]+(\S[^\n]*?)[ \t]*$"
)
_SHORT_HEAD = re.compile(r"^[ \t]*(?:H/W path|Bus info)[ \t]+(?:Device[ \t]+)?Class[ \t]+Description")
_DRIVER = re.compile(r"\bdriver=([\w.-]{1,64})")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """lshw text -> the machine's product and vendor, its devices and NIC drivers."""
    lines = text.split("\n")
    if any(_SHORT_HEAD.match(ln) for ln in lines[:5]) or (
        command and ("-short" in command or "-businfo" in command)
    ):
        return _short(lines, start)
    facts: list[Fact] = []
    node = "system"
    seen: set[str] = set()
    device: dict[str, tuple[str, int, str]] = {}

    def flush() -> None:
        key = _NODE_FACT.get(node_class)
        if key and "product" in device:
            product, line, raw = device["product"]
            vendor = device.get("vendor", ("", 0, ""))[0]
            value = f"{vendor} {product}".strip() if vendor and vendor not in product else product
            facts.append(Fact(key, value, line, raw))

    node_class = ""
    for i, raw in enumerate(lines[:20_000]):
        if len(facts) >= MAX_FACTS:
            break
        line = raw.strip()
        if line.startswith("*-"):
            flush()
            device = {}
            name = line[2:].split(":", 1)[0].strip()
            node_class = name
            # `lshw -C network` starts at a device node: only an unnamed class is the machine.
            node = (
                "board" if name == "core" else ("system" if not seen and name not in _NODE_FACT and name not in _PART_NODES else "other")
            )
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            continue
        if key == "configuration" and node_class == "network":
            m = _DRIVER.search(value)
            if m:
                facts.append(Fact("net.driver", m.group(1).lower(), start + i, raw))
            continue
        if key not in ("product", "vendor"):
            continue
        if node == "other":
            device.setdefault(key, (value, start + i, raw))
            continue
        fact = f"{node}.{'product' if key == 'product' else 'manufacturer'}"
        if fact not in seen:
            seen.add(fact)
            facts.append(Fact(fact, value, start + i, raw))
    flush()
    return Parsed(tuple(facts))


def _short(lines: list[str], start: int) -> Parsed:
    facts: list[Fact] = []
    have: set[str] = set()
    for i, raw in enumerate(lines):
        if len(facts) >= MAX_FACTS:
            break
        if len(raw) > 400:
            continue  # no lshw row is this long; keeps the regex cheap on junk
        m = _SHORT_ROW.match(raw)
        if not m:
            continue
        cls, desc = m.group(1), m.group(2)
        if cls in ("system", "bus"):
            key = "system.product" if cls == "system" else "board.product"
            if key not in have:
                have.add(key)
                facts.append(Fact(key, desc, start + i, raw))
        elif cls in _NODE_FACT:
            facts.append(Fact(_NODE_FACT[cls], desc, start + i, raw))
    return Parsed(tuple(facts))
