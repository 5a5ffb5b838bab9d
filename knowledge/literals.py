"""Write `knowledge/prefilter_literals.json`: the literals `knowledge.prefilter` derives from
every pattern the matcher indexes, so that `ask` and the bot start without re-parsing them.

    python -m knowledge.literals

Run it after changing a pattern in `signals.py`, `features.py` or `vetoes.py`; the test
tests/knowledge/test_prefilter_literals.py fails while the file is stale.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from knowledge import prefilter


def derive() -> dict:
    """Every derivation the matcher's modules make, computed afresh."""
    prefilter.USE_SHIPPED = False
    prefilter._derived.clear()
    for fn in (prefilter._shipped, prefilter.anchored_prefixes, prefilter.required):
        fn.cache_clear()
    try:
        for name in ("knowledge.features", "knowledge.vetoes", "knowledge.cues", "knowledge.scorer"):
            importlib.reload(importlib.import_module(name))
        # Patterns first read while matching (not when the modules load) are derived here too.
        from knowledge import load

        kb = load()
        for text in ("can i farm zero os in a proxmox vm?", "my node shows virtualized but it is a real dell"):
            kb.match(text)
        return {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "patterns": dict(sorted(prefilter._derived.items()))}
    finally:
        prefilter.USE_SHIPPED = True
        prefilter._shipped.cache_clear()


def render(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def write(path: Path = prefilter.LITERALS_PATH) -> int:
    doc = derive()
    path.write_text(render(doc), encoding="utf-8")
    return len(doc["patterns"])


if __name__ == "__main__":
    print(f"wrote {write()} patterns to {prefilter.LITERALS_PATH.name}")
