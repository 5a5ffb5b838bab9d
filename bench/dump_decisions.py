"""Dump the matcher's decision for every post we have, to prove a speed change changes nothing.

    .venv/bin/python bench/dump_decisions.py OUT.jsonl             # write one line per post
    .venv/bin/python bench/dump_decisions.py --check BASE.jsonl    # compare with an earlier dump

Posts: every JSONL line with a "text" string under knowledge/data/ and tests/fixtures/, the
golden questions, every entry's questions, every text fixture under tests/fixtures/ (pastes,
dumps: long and messy inputs) and a few edge cases. A line holds the whole `Match.to_dict()`
(label, entry, candidate, band, rounded score, reasons), the model's raw probability and the
entry chooser's share, and the line `farmhand classify` prints for the post; `--check` wants
everything equal and the floats within 1e-9.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.commands.classify import classify  # noqa: E402
from knowledge import default_kb  # noqa: E402
from knowledge.matcher import MAX_INPUT_CHARS  # noqa: E402

TOLERANCE = 1e-9
EDGE_CASES = (
    "",
    "   ",
    "vm",
    "?",
    "Can I farm ZOS in a VM?\n\nTitle line and a body, with 3 digits 123.",
    "虚拟机里可以跑zos吗？在VPS上 farming",
    "Máquina virtual con ZOS, ¿puedo farmear?  \x00\x07 junk \ufffd",
    "virtualized: yes " * 3000,
    "word " * 5000,
)


def posts() -> Iterator[tuple[str, str]]:
    """(key, text) of every post, in a fixed order."""
    for base in (ROOT / "knowledge" / "data", ROOT / "tests" / "fixtures"):
        for path in sorted(base.rglob("*.jsonl")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                    yield f"{path.relative_to(ROOT)}:{n}", obj["text"]
        for path in sorted(base.rglob("*.txt")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8", errors="replace")
    golden = yaml.safe_load((ROOT / "tests" / "fixtures" / "questions" / "golden.yaml").read_text("utf-8"))
    for n, item in enumerate(golden if isinstance(golden, list) else golden.get("questions", [])):
        text = item.get("question") or item.get("text") if isinstance(item, dict) else item
        if isinstance(text, str):
            yield f"golden:{n}", text
    for entry in default_kb().entries:
        for n, q in enumerate(entry.questions):
            yield f"entry:{entry.id}:{n}", q
    for n, text in enumerate(EDGE_CASES):
        yield f"edge:{n}", text


def decision(text: str) -> dict:
    """Everything the matcher says about one post, raw floats included."""
    kb = default_kb()
    row = kb.match(text).to_dict()
    if text.strip():
        s = kb._matcher.model.score(text[:MAX_INPUT_CHARS])
        row.update(p=s.p, entry_p=s.entry_p, chooser=s.entry, top=[list(t) for t in s.top])
    return row


def check(base: Path, rows: dict[str, dict]) -> int:
    """Print each difference with the earlier dump; 0 when there is none."""
    old = {r["key"]: r for r in map(json.loads, base.read_text(encoding="utf-8").splitlines())}
    bad = 0
    if old.keys() != rows.keys():
        print(f"posts differ: {len(old.keys() ^ rows.keys())} keys")
        bad += 1
    for key, new in rows.items():
        was = old.get(key)
        if was is None:
            continue
        for field in was.keys() | new.keys():
            a, b = was.get(field), new.get(field)
            same = abs(a - b) <= TOLERANCE if isinstance(a, float) and isinstance(b, float) else a == b
            if not same:
                bad += 1
                if bad <= 20:
                    print(f"{key} {field}: {a!r} -> {b!r}")
    print(f"{len(rows)} posts, {bad} differences")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--check", type=Path, help="compare with this earlier dump instead of writing")
    args = ap.parse_args()
    items = list(posts())
    rows = {key: {"key": key, **decision(text)} for key, text in items}
    out = io.StringIO()
    classify(iter(json.dumps({"id": key, "text": text}).encode() + b"\n" for key, text in items), out)
    for line in out.getvalue().splitlines():
        row = json.loads(line)
        rows[row["id"]]["classify"] = row
    if args.check:
        return check(args.check, rows)
    if args.out is None:
        ap.error("give OUT.jsonl or --check BASE.jsonl")
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.values()), "utf-8")
    print(f"{len(rows)} posts written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
