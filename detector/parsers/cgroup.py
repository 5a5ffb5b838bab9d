"""`/proc/1/cgroup`, `/proc/self/cgroup`: `N:controllers:/path`. Returns `cgroup.path` for
paths other than `/` (first 20 distinct), which is where docker/lxc/libpod/kubepods show.
"""

from __future__ import annotations

import re

from detector.parsers import Fact, Parsed

_LINE = re.compile(r"^\d+:[\w,=]*:(/\S*)")


def parse(text: str, start: int = 1, command: str | None = None) -> Parsed:
    """cgroup text -> `cgroup.path` facts."""
    facts: list[Fact] = []
    seen: set[str] = set()
    for i, raw in enumerate(text.split("\n")[:200]):
        m = _LINE.match(raw.strip())
        if m and m.group(1) != "/" and m.group(1) not in seen:
            seen.add(m.group(1))
            facts.append(Fact("cgroup.path", m.group(1), start + i, raw))
            if len(facts) >= 20:
                break
    return Parsed(tuple(facts))
