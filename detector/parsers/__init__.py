"""One small, total parser per tool: text of one section in, facts out, never an exception.

Every parser module exposes `parse(text, start=1, command=None) -> Parsed`; `start` is the
parse's first line number in the paste, `command` the prompt's command line if any. Facts use a
shared vocabulary of keys, so one signature can match what dmidecode, /sys/class/dmi/id,
hostnamectl, inxi and neofetch each say about the same thing:

- `system.manufacturer`, `system.product`, `system.version`, `system.family`,
  `bios.vendor`, `bios.version`, `board.manufacturer`, `board.product`,
  `chassis.manufacturer`, `chassis.type`, `chassis.asset`, `oem.string`, `bios.item`,
  `system.uuid` (only its prefix is read: EC2's begin with `ec2`)
- `cpu.vendor_id`, `cpu.model`, `cpu.flags`, `cpu.hypervisor_vendor`,
  `cpu.virtualization` (VT-x/AMD-V: capability), `cpu.virtualization_type` (full/para/container),
  `cpu.platform`, `cpu.machine`, `cpu.arch`
- `virt.detected` (systemd-detect-virt / hostnamectl), `virt_what.output`, `cpuid.signature`
- `container.env`, `cgroup.path`, `status.vxid`, `kernel.release`, `net.iface`,
  `disk.model`, `disk.vendor`, `net.driver`, `dmi.unavailable`, `file.path`,
  `dt.model` (the device tree's own board name), `cpu.topology` (lscpu on x86)

Read outside any parser (detector/__init__.py, rules.py): `system.dmi_line` (the kernel's
`DMI:`/`Hardware name:` line) and `system.dmi_name` (that line without its `, BIOS ...` tail),
`journal.unit` and `journal.host` (a journald/syslog prefix's unit and host), `compose.service`
(a docker compose service prefix on two or more lines).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing a tool said, with the paste line it came from."""

    key: str
    value: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a parser got out of its section, plus what looked wrong."""

    facts: tuple[Fact, ...] = ()
    warnings: tuple[str, ...] = ()


ParseFn = Callable[..., Parsed]  # parse(text, start=1, command=None) -> Parsed

# Cap on facts per section: a 10 MB paste of one tool must not produce millions of facts.
MAX_FACTS = 2000


def kv(line: str, sep: str = ":") -> tuple[str, str] | None:
    """`Key: value` -> (key stripped, value stripped), or None when the line has no separator."""
    key, found, value = line.partition(sep)
    if not found:
        return None
    return key.strip(), value.strip()


def registry() -> dict[str, ParseFn]:
    """tool name -> parse function (imported lazily so importing `detector` stays cheap)."""
    from detector.parsers import (
        cgroup,
        cpuid,
        cpuinfo,
        devicetree,
        disks,
        dmi_sysfs,
        dmidecode,
        environ,
        ethtool,
        fetch,
        hostnamectl,
        inxi,
        ip,
        lscpu,
        lshw,
        proc_status,
        systemd_detect_virt,
        uname,
        virt_what,
        windows,
    )

    return {
        "dmidecode": dmidecode.parse,
        "dmi_sysfs": dmi_sysfs.parse,
        "lscpu": lscpu.parse,
        "cpuinfo": cpuinfo.parse,
        "systemd_detect_virt": systemd_detect_virt.parse,
        "virt_what": virt_what.parse,
        "cpuid": cpuid.parse,
        "hostnamectl": hostnamectl.parse,
        "inxi": inxi.parse,
        "fetch": fetch.parse,
        "lshw": lshw.parse,
        "cgroup": cgroup.parse,
        "environ": environ.parse,
        "proc_status": proc_status.parse,
        "uname": uname.parse,
        "ip": ip.parse,
        "disks": disks.parse,
        "windows": windows.parse,
        "ethtool": ethtool.parse,
        "devicetree": devicetree.parse,
    }


def safe_parse(fn: ParseFn, text: str, start: int, command: str | None = None) -> Parsed:
    """Run a parser; a bug in one parser costs its facts, never the verdict."""
    try:
        return fn(text, start, command)
    except Exception as exc:  # parsers are meant to be total; this is the last guard
        log.warning("parser %s failed: %s", getattr(fn, "__module__", fn), exc)
        return Parsed((), (f"parser error: {type(exc).__name__}",))
