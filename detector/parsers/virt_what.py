"""`virt-what`: prints one fact per line (`kvm`, `aws`, `xen`, `xen-dom0`, `docker`, ...),
or nothing at all on bare metal. Returns `virt_what.output` per line, and
`virt_what.empty` when the section is empty (that is the answer "nothing").
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_WORD = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """virt-what output -> one `virt_what.output` fact per line."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:40]):
        word = raw.strip().lower()
        if _WORD.match(word):
            facts.append(Fact("virt_what.output", word, start + i, raw))
    if not facts and not text.strip():
        facts.append(Fact("virt_what.empty", "", max(start - 1, 1), ""))
    return Parsed(tuple(facts))
