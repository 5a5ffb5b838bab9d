"""`virt-what-cpuid-helper`: the CPUID hypervisor signature (`KVMKVMKVM`, `VMwareVMware`,
`Microsoft Hv`, `XenVMMXenVMM`, ...); junk like `@` or empty on bare metal and non-x86.
Returns `cpuid.signature`.
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """cpuid helper output -> `cpuid.signature` when it looks like one."""
    for i, raw in enumerate(text.split("\n")[:5]):
        sig = raw.strip()
        if len(sig) >= 4:
            return Parsed((Fact("cpuid.signature", sig, start + i, raw),))
    return Parsed()
