"""`lshw` / `lshw -short`: the top node's `product:`/`vendor:` describe the machine.
Returns `system.product`, `system.manufacturer` (first of each), `board.product`.
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """lshw text -> the machine's product and vendor."""
    facts: list[Fact] = []
    node = "system"
    seen: set[str] = set()
    for i, raw in enumerate(text.split("\n")[:400]):
        line = raw.strip()
        if line.startswith("*-"):
            name = line[2:].split(":", 1)[0].strip()
            node = "board" if name == "core" else ("system" if not seen else "other")
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or node == "other" or key not in ("product", "vendor"):
            continue
        fact = f"{node}.{'product' if key == 'product' else 'manufacturer'}"
        if fact not in seen and value.strip():
            seen.add(fact)
            facts.append(Fact(fact, value.strip(), start + i, raw))
    return Parsed(tuple(facts))
