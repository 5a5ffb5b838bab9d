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


# Devices and drives (inxi -G/-N/-D): `Device-1: Intel 82540EM Gigabit Ethernet driver: e1000`,
# `ID-1: /dev/sda vendor: Samsung model: SSD 870 EVO 1TB size: ...`, `IF: enp0s3 ... mac: 08:00:27:..`.
_DEVICE = re.compile(
    r"\bDevice-\d+:[ \t]+([^\n]*?)(?=[ \t](?:driver|vendor|bus-ID|v|ports|type|IF|chip-ID):[ \t]|$)"
)
_DRIVE = re.compile(
    r"\bID-\d+:[ \t]+/dev/\S+[^\n]*?(?:\bvendor:[ \t]+(?P<vendor>[^:\n]*?)[ \t]+)?\bmodel:[ \t]+"
    r"(?P<model>[^:\n]*?)(?=[ \t][A-Za-z][\w-]{0,12}:[ \t]|$)"
)
_NIC_DRIVER = re.compile(r"\bdriver:[ \t]+([\w.-]{1,64})")
_IF_MAC = re.compile(r"\bIF:[ \t]+(\S+)[^\n]*?\bmac:[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\b")
_SECTION = re.compile(r"^([A-Z][\w-]{1,12}):(?:[ \t]|$)")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """inxi text -> machine facts (one-line `inxi -F` layout and the 3.x indented layout)."""
    facts: list[Fact] = []
    section = ""
    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        head = _SECTION.match(raw)
        if head:
            section = head.group(1)
        lineno = start + i
        if section == "Graphics":
            for m in _DEVICE.finditer(raw):
                facts.append(Fact("gpu.model", m.group(1).strip(), lineno, raw))
        elif section == "Network":
            for m in _DEVICE.finditer(raw):
                facts.append(Fact("nic.model", m.group(1).strip(), lineno, raw))
            for m in _NIC_DRIVER.finditer(raw):
                facts.append(Fact("net.driver", m.group(1).lower(), lineno, raw))
            for m in _IF_MAC.finditer(raw):
                facts.append(Fact("net.iface", f"{m.group(1)} {m.group(2).lower()}", lineno, raw))
        elif section == "Drives":
            for m in _DRIVE.finditer(raw):
                model = " ".join(x for x in (m.group("vendor"), m.group("model")) if x)
                facts.append(Fact("disk.model", model.strip(), lineno, raw))
            continue
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
