"""`lscpu` (old `Hypervisor vendor:` layout and the newer grouped layout with indented keys).

Returns `cpu.arch`, `cpu.vendor_id`, `cpu.model`, `cpu.hypervisor_vendor`,
`cpu.virtualization` (VT-x/AMD-V: what the CPU can do, not what it is),
`cpu.virtualization_type` (full/para/container: what lscpu saw from inside) and `cpu.flags`.
"""

from __future__ import annotations

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


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """lscpu text -> CPU facts."""
    facts: list[Fact] = []
    seen: set[str] = set()
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        key, sep, value = raw.partition(":")
        if not sep:
            continue
        k = key.strip().lower()
        fact_key = _KEYS.get(k)
        value = value.strip()
        if fact_key is None or not value or fact_key in seen:
            continue
        if fact_key == "cpu.flags":
            value = _wrapped_flags(value, lines[i + 1 :])
        seen.add(fact_key)
        facts.append(Fact(fact_key, value, start + i, raw))
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
