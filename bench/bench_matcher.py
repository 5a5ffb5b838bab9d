"""Benchmark the matcher model: held-out and development figures, throughput, start-up, memory.

    .venv/bin/python bench/bench_matcher.py [--posts 10000] [--no-heldout]

- HELD-OUT (never trained or tuned on): knowledge/data/test/judge.jsonl (another writer)
  and knowledge/data/test/real-b.jsonl (real forum posts, another collector): precision,
  recall, look-alikes answered, non-English vs English, entry choice;
- DEVELOPMENT: ../shared/eval/*.jsonl when present;
- posts/s through the `farmhand classify` code path on one core after start-up;
- start-up of `farmhand ask` in a subprocess; peak memory of the matcher.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.commands.classify import classify  # noqa: E402
from knowledge import default_kb  # noqa: E402

HELDOUT = [ROOT / "knowledge" / "data" / "test" / "judge.jsonl", ROOT / "knowledge" / "data" / "test" / "real-b.jsonl"]
DEV = sorted((ROOT.parent / "shared" / "eval").glob("*.jsonl"))
TRAIN = sorted((ROOT / "knowledge" / "data" / "posts").glob("*.jsonl"))


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def figures(rows: list[dict]) -> dict:
    """Precision, recall, look-alikes answered, per-language split, entry accuracy."""
    kb = default_kb()
    out = {"n": len(rows)}
    tp = fp = fn = 0
    by_lang = {"en": [0, 0, 0], "non-en": [0, 0, 0]}
    entry_right = entry_n = 0
    unsure = 0
    for r in rows:
        m = kb.match(r["text"])
        y = r.get("label") == "vm_farming"
        key = "en" if str(r.get("lang") or "en") == "en" else "non-en"
        unsure += m.band == "unsure"
        if m.on_topic and y:
            tp += 1
            by_lang[key][0] += 1
        elif m.on_topic:
            fp += 1
            by_lang[key][1] += 1
        elif y:
            fn += 1
            by_lang[key][2] += 1
        if r.get("entry"):
            entry_n += 1
            entry_right += m.candidate == r["entry"]
    neg = sum(1 for r in rows if r.get("label") != "vm_farming")
    out.update(
        precision=round(tp / (tp + fp), 3) if tp + fp else 1.0,
        recall=round(tp / (tp + fn), 3) if tp + fn else None,
        tp=tp, fp=fp, fn=fn,
        lookalikes_answered=f"{fp}/{neg} ({fp / neg:.1%})" if neg else "-",
        unsure=unsure,
        entry_accuracy=round(entry_right / entry_n, 3) if entry_n else None,
    )
    for k, (a, b, c) in by_lang.items():
        out[k] = {"precision": round(a / (a + b), 3) if a + b else None, "recall": round(a / (a + c), 3) if a + c else None}
    return out


def throughput(n: int) -> float:
    texts = [r["text"] for p in TRAIN for r in read(p)]
    lines = [json.dumps({"id": i, "text": texts[i % len(texts)]}).encode() + b"\n" for i in range(n)]
    default_kb().match("warm up")
    t = time.perf_counter()
    classify(iter(lines), io.StringIO())
    return n / (time.perf_counter() - t)


def startup() -> float:
    best = 1e9
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "ask", "--json", "can I farm in a vm?"], cwd=ROOT,
                       check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out split")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not args.no_heldout:
        for p in HELDOUT:
            if p.exists():
                print(f"HELD-OUT {p.name}: {json.dumps(figures(read(p)))}")
        both = [r for p in HELDOUT if p.exists() for r in read(p)]
        print(f"HELD-OUT all: {json.dumps(figures(both))}")
    for p in DEV:
        print(f"DEVELOPMENT {p.name}: {json.dumps(figures(read(p)))}")
    print(f"classify posts/s (one core, after start-up): {throughput(args.posts):,.0f}")
    print(f"ask start-up (best of 5): {startup():.3f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak / 1024:.1f} MB (before the matcher loaded: {before / 1024:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
