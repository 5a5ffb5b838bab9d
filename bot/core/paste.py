"""Split a post into its prose (the question) and its pasted dump (tool output).

The matcher must see only the question: dump lines mention "virtual", "KVM",
"hypervisor" and would make any paste look on topic. The detector must see only
the dump. A block is dump when it sits in a ``` fence or the detector says it looks
like tool output; blocks are separated by blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Paste:
    prose: str
    dump: str

    @property
    def has_dump(self) -> bool:
        return bool(self.dump.strip())


def split_paste(text: str, looks_like_dump: Callable[[str], bool]) -> Paste:
    """Separate fenced or dump-looking blocks from the prose around them."""
    prose: list[str] = []
    dump: list[str] = []
    block: list[str] = []
    fenced: list[str] = []
    in_fence = False

    def flush() -> None:
        if not block:
            return
        chunk = "\n".join(block)
        (dump if looks_like_dump(chunk) else prose).append(chunk)
        block.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            if in_fence:
                chunk = "\n".join(fenced)
                # A fenced block is a paste unless it is a one-liner (a command being quoted).
                (dump if len(fenced) > 1 or looks_like_dump(chunk) else prose).append(chunk)
                fenced.clear()
            else:
                flush()
            in_fence = not in_fence
            continue
        if in_fence:
            fenced.append(line)
        elif line.strip():
            block.append(line)
        else:
            flush()
    flush()
    if fenced:  # an unclosed fence: everything after it is the paste
        dump.append("\n".join(fenced))
    return Paste(prose="\n\n".join(prose).strip(), dump="\n\n".join(dump).strip())
