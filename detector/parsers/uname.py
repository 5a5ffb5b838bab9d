"""`uname -a`, `uname -r`, `cat /proc/version`: returns `kernel.release` (the whole line,
where `-microsoft-standard-WSL2`, `Microsoft` (WSL1), `BrandZ`, `-pve`, `+truenas` show).
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """uname text -> `kernel.release` per non-empty line (first three)."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:20]):
        if raw.strip():
            facts.append(Fact("kernel.release", raw.strip(), start + i, raw))
            if len(facts) >= 3:
                break
    return Parsed(tuple(facts))
