"""neofetch / fastfetch / screenfetch: `Host: KVM/QEMU (Standard PC (i440FX + PIIX, 1996) pc-i440fx-6.2)`,
`Host: PowerEdge R720`, `Kernel: 6.1.0-13-amd64`, `CPU: ...`, `GPU: ...`. Returns
`system.dmi_line` (the Host line: vendor and product together), `kernel.release`,
`cpu.model`, `gpu.model`.
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

# fastfetch's timing column (`--stat`, ci configs) and other right-hand columns: a value ends
# at a run of three or more blanks.
_COLUMN_GAP = re.compile(r"[ \t]{3,}")

_KEYS = {"host": "system.dmi_line", "kernel": "kernel.release", "cpu": "cpu.model", "gpu": "gpu.model"}


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """fetch text -> facts."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:200]):
        # The logo sits left of the fields; the field is the last `Key: value` on the line.
        idx = -1
        for name in ("Host:", "Kernel:", "CPU:", "GPU:"):
            j = raw.find(name)
            if j >= 0:
                idx = j
                break
        if idx < 0:
            continue
        key, _, value = raw[idx:].partition(":")
        k = _KEYS.get(key.strip().lower())
        value = _COLUMN_GAP.split(value.strip(), 1)[0]
        if k and value:
            facts.append(Fact(k, value, start + i, raw))
    return Parsed(tuple(facts))
