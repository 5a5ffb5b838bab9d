"""`ip link`, `ip a`, `ip -br link`, `ifconfig`, `grep . /sys/class/net/*/address`: returns `net.iface` facts valued `NAME MAC` so signatures can
tell a VM's own NIC (`eth0 52:54:00:...`) from a host's bridges and taps
(`virbr0`, `vnet0`, `tap100i0`, `docker0`, `veth...`, `br-...`, `vmbr0`), which prove only
that the machine hosts VMs or containers.
"""

from __future__ import annotations

import re

from detector.parsers import MAX_FACTS, Fact, Parsed

_IP_HEAD = re.compile(r"^\d+:[ \t]+([\w.:-]{1,64}?)(?:@[\w.-]{1,64})?:[ \t]+<")
_IFCONFIG_HEAD = re.compile(r"^([\w.:-]+?):?[ \t]+(?:flags=|Link encap)")
# `ip -br link`: `ens192   UP   00:50:56:a3:4e:7d <BROADCAST,...>`; `grep . /sys/class/net/*/address`.
_BRIEF = re.compile(
    r"^[ \t]*([\w.:-]{1,64}?)(?:@[\w.-]{1,64})?[ \t]+(?:UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING)"
    r"[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\b"
)
# `ip -br a` / `ip -br link` rows without a MAC (addresses or nothing after the state).
_BRIEF_NOMAC = re.compile(
    r"^([\w.:-]{1,64}?)(?:@[\w.-]{1,64})?[ \t]+(?:UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING)(?:[ \t]|$)"
)
_SYS_NET = re.compile(
    r"/sys/class/net/([\w.:-]{1,64})/address:[ \t]*([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\b"
)
_BARE_MAC = re.compile(r"^[ \t]*([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})[ \t]*$")
_MAC = re.compile(r"(?:link/ether|ether|HWaddr)[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """ip/ifconfig text -> `net.iface` = 'name mac' (mac may be '-')."""
    facts: list[Fact] = []
    # `cat /sys/class/net/eth0/address`: one bare MAC, named by the command.
    named = re.findall(r"/sys/class/net/([\w.:-]{1,64})/address", command or "")
    name, name_line, name_raw, have_mac = None, 0, "", False

    def flush() -> None:
        if name and not have_mac:
            facts.append(Fact("net.iface", f"{name} -", name_line, name_raw))

    for i, raw in enumerate(text.split("\n")):
        if len(facts) >= MAX_FACTS:
            break
        bare = _BARE_MAC.match(raw) if len(named) == 1 else None
        if bare:
            facts.append(Fact("net.iface", f"{named[0]} {bare.group(1).lower()}", start + i, raw))
            continue
        one = _BRIEF.match(raw) or _SYS_NET.search(raw)
        if one:
            flush()
            name = None
            facts.append(Fact("net.iface", f"{one.group(1)} {one.group(2).lower()}", start + i, raw))
            continue
        brief = _BRIEF_NOMAC.match(raw) if command and ("-br" in command or "--brief" in command) else None
        if brief:
            flush()
            name = None
            facts.append(Fact("net.iface", f"{brief.group(1)} -", start + i, raw))
            continue
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
