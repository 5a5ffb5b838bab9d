"""`lscpu` (old `Hypervisor vendor:` layout and the newer grouped layout with indented keys).

Returns `cpu.arch`, `cpu.vendor_id`, `cpu.model`, `cpu.hypervisor_vendor`,
`cpu.virtualization` (VT-x/AMD-V: what the CPU can do, not what it is),
`cpu.virtualization_type` (full/para/container: what lscpu saw from inside) and `cpu.flags`.
Two facts of the whole section: `cpu.freq_range` (`CPU max MHz` and `CPU min MHz` both
printed: a cpufreq driver drives the CPU's clock, which hypervisors do not give their guests;
older lscpu, which prints only `CPU MHz`, shows it as a clock parked at a low P-state, 800.000)
`cpu.vt_no_hypervisor` (VT-x/AMD-V shown, no `Hypervisor vendor` line anywhere in the
section, and lines after it: a guest with nested virtualization prints both) and
`cpu.topology` (`8 sockets x 1 cores`, x86 only).
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_KEYS = {
    "architecture": "cpu.arch",
    "vendor id": "cpu.vendor_id",
    "model name": "cpu.model",
    "hypervisor vendor": "cpu.hypervisor_vendor",
    "hypervisor": "cpu.hypervisor_vendor",
    "virtualization": "cpu.virtualization",
    "virtualisation": "cpu.virtualization",
    "virtualization type": "cpu.virtualization_type",
    "flags": "cpu.flags",
    "bios vendor id": "bios.vendor",
    "bios model name": "cpu.bios_model",
}
# Some lscpu versions print a hypervisor on physical machines: `(null)` (old ARM builds) or
# s390's CPU dispatching mode (`horizontal`, `vertical`) read as a vendor. What they print
# as `Virtualization type` beside it comes from the same misreading, so both are dropped and
# the section says `cpu.hypervisor_vendor_bogus` instead (shown, never counted).
_BOGUS_VENDORS = ("(null)", "horizontal", "vertical")
# A clock of exactly 0.4-1.2 GHz: a power-saving P-state (hardly any host's base clock is that
# low, and a guest shows its host's calibrated clock, rarely a round number).
_IDLE_MHZ = re.compile(r"^(?:[4-9]00|1[0-2]00)\.0+$")
# `cpu.topology` (x86 only): sockets and cores per socket. A hypervisor's default topology gives
# each vCPU its own socket (`Core(s) per socket: 1`, `Socket(s): 8`); real x86 sockets have held
# several cores since 2005 (ARM and other lscpu builds print clusters as sockets).
_X86 = ("x86_64", "i686", "i386", "GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls")
# Keys lscpu prints after `Virtualization:` (and after `Hypervisor vendor:`, when there is one).
_AFTER_VIRT = ("l1d cache", "l1i cache", "l2 cache", "l3 cache", "numa node0 cpu(s)", "vulnerability ")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """lscpu text -> CPU facts."""
    facts: list[Fact] = []
    seen: set[str] = set()
    lines = text.split("\n")
    mhz: dict[str, int] = {}
    virt_line = -1
    after_virt = False
    topo: dict[str, tuple[int, int]] = {}  # key -> (line index, number)
    x86 = False
    for i, raw in enumerate(lines):
        key, sep, value = raw.partition(":")
        if not sep:
            continue
        k = key.strip().lower()
        if k in ("cpu max mhz", "cpu min mhz") and value.strip():
            mhz.setdefault(k, i)
        elif k == "cpu mhz" and _IDLE_MHZ.match(value.strip()):
            # Older lscpu prints only the current clock: a CPU parked at a low P-state
            # (800.000) is scaled by cpufreq; a guest shows its host's calibrated clock.
            mhz.setdefault("cpu max mhz", i)
            mhz.setdefault("cpu min mhz", i)
        if virt_line >= 0 and k.startswith(_AFTER_VIRT):
            after_virt = True
        if k in ("core(s) per socket", "socket(s)") and value.strip().isdigit():
            topo.setdefault(k, (i, int(value.strip())))
        elif k in ("architecture", "vendor id") and value.strip() in _X86:
            x86 = True
        fact_key = _KEYS.get(k)
        value = value.strip()
        if fact_key is None or not value or fact_key in seen:
            continue
        if fact_key == "cpu.flags":
            value = _wrapped_flags(value, lines[i + 1 :])
        seen.add(fact_key)
        if fact_key == "cpu.virtualization" and value.upper() in ("VT-X", "AMD-V"):
            virt_line = i
        facts.append(Fact(fact_key, value, start + i, raw))
    bogus = [f for f in facts if f.key == "cpu.hypervisor_vendor" and f.value.lower() in _BOGUS_VENDORS]
    if bogus:
        facts = [f for f in facts if f.key not in ("cpu.hypervisor_vendor", "cpu.virtualization_type")]
        facts.append(Fact("cpu.hypervisor_vendor_bogus", bogus[0].value, bogus[0].line, bogus[0].text))
    if len(mhz) == 2:
        i = mhz["cpu max mhz"]
        facts.append(Fact("cpu.freq_range", "cpufreq", start + i, lines[i]))
    if virt_line >= 0 and after_virt and "cpu.hypervisor_vendor" not in seen:
        facts.append(Fact("cpu.vt_no_hypervisor", "yes", start + virt_line, lines[virt_line]))
    if topo.keys() >= {"core(s) per socket", "socket(s)"} and x86:
        i, cores = topo["core(s) per socket"]
        _, sockets = topo["socket(s)"]
        facts.append(Fact("cpu.topology", f"{sockets} sockets x {cores} cores", start + i, lines[i]))
    return Parsed(tuple(facts))


def _wrapped_flags(first: str, after: list[str]) -> str:
    """The flags, with the indented lines a narrow terminal wrapped them onto.

    A terminal wraps at a column, often inside a word (`pd` / `pe1gb`), and a paste loses the
    blank at a wrap between words: both joins are kept, so a flag is found either way."""
    rest: list[str] = []
    for line in after[:40]:
        if not line[:1].isspace() or ":" in line or not line.strip():
            break
        rest.append(line.strip())
    if not rest:
        return first
    return " ".join(("".join([first, *rest]), " ".join([first, *rest])))
