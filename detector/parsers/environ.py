"""`/proc/1/environ` (as `tr '\\0' '\\n'` prints it) or `env`: returns `container.env` for
`container=...` (set by systemd-nspawn, lxc, podman, cri-o, zones...).
"""

from __future__ import annotations

from detector.parsers import Fact, Parsed


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """environ text -> `container.env`."""
    facts: list[Fact] = []
    for i, raw in enumerate(text.split("\n")[:500]):
        # A raw (un-tr'd) environ joins variables with NULs that the decoder dropped.
        for part in raw.replace("\x00", "\n").split("\n"):
            if part.strip().startswith("container="):
                facts.append(Fact("container.env", part.strip()[10:], start + i, raw))
    return Parsed(tuple(facts))
