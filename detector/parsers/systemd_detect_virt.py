"""`systemd-detect-virt` (and `-c`, `-v`): one word — `none`, `kvm`, `docker`, ...

The word is evidence, not proof: older versions print `none` in some VMs and containers.
Returns `virt.detected`.
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_WORD = re.compile(r"^[a-z][a-z0-9_-]{1,24}$")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """systemd-detect-virt output -> `virt.detected`."""
    for i, raw in enumerate(text.split("\n")):
        word = raw.strip().lower()
        if _WORD.match(word):
            return Parsed((Fact("virt.detected", word, start + i, raw),))
        if word:
            break
    return Parsed((), ("systemd-detect-virt: no verdict word",))
