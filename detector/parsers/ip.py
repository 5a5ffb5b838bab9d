"""`ip link`, `ip a`, `ifconfig`: returns `net.iface` facts valued `NAME MAC` so signatures can
tell a VM's own NIC (`eth0 52:54:00:...`) from a host's bridges and taps
(`virbr0`, `vnet0`, `tap100i0`, `docker0`, `veth...`, `br-...`, `vmbr0`), which prove only
that the machine hosts VMs or containers.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_IP_HEAD = re.compile(r"^\d+:[ \t]+([\w.:-]{1,64}?)(?:@[\w.-]{1,64})?:[ \t]+<")
_IFCONFIG_HEAD = re.compile(r"^([\w.:-]+?):?[ \t]+(?:flags=|Link encap)")
_MAC = re.compile(r"(?:link/ether|ether|HWaddr)[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """ip/ifconfig text -> `net.iface` = 'name mac' (mac may be '-')."""
    facts: list[Fact] = []
    name, name_line, name_raw, have_mac = None, 0, "", False

    def flush() -> None:
        if name and not have_mac:
            facts.append(Fact("net.iface", f"{name} -", name_line, name_raw))

    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        m = _IP_HEAD.match(raw) or _IFCONFIG_HEAD.match(raw)
        if m:
            flush()
            name, name_line, name_raw, have_mac = m.group(1), start + i, raw, False
        mac = _MAC.search(raw)
        if mac and name:
            facts.append(Fact("net.iface", f"{name} {mac.group(1).lower()}", start + i, raw))
            have_mac = True
    flush()
    return Parsed(tuple(facts))
