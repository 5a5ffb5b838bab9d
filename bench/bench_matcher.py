"""Benchmark the matcher model: held-out and development figures, throughput, start-up, memory.

    .venv/bin/python bench/bench_matcher.py [--posts 10000] [--no-heldout]

- HELD-OUT (never trained or tuned on): knowledge/data/test/judge.jsonl, judge2.jsonl, judge3.jsonl, judge4.jsonl, judge5.jsonl, judge6.jsonl and judge7.jsonl (seven other writers)
  and knowledge/data/test/real-b.jsonl and real-c.jsonl (real posts, two other collectors): precision,
  recall, look-alikes answered, non-English vs English, entry choice;
- DEVELOPMENT: ../shared/eval/*.jsonl when present;
- posts/s through the `farmhand classify` code path on one core after start-up: CPU time
  of the process (best of 3 runs of --posts posts), so other jobs on a shared machine do
  not count, and wall time beside it;
- start-up of `farmhand ask` in a subprocess (best of 5);
- memory the matcher adds: peak RSS of a fresh interpreter that loads the knowledge base
  and classifies the posts, minus the interpreter's own at start.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.commands.classify import classify  # noqa: E402
from knowledge import default_kb  # noqa: E402

HELDOUT = [ROOT / "knowledge" / "data" / "test" / name for name in ("judge.jsonl", "judge2.jsonl", "judge3.jsonl", "judge4.jsonl", "judge5.jsonl", "judge6.jsonl", "judge7.jsonl", "real-b.jsonl", "real-c.jsonl")]
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


def _lines(n: int) -> list[bytes]:
    texts = [r["text"] for p in TRAIN for r in read(p)]
    return [json.dumps({"id": i, "text": texts[i % len(texts)]}).encode() + b"\n" for i in range(n)]


def throughput(n: int, runs: int = 3) -> tuple[float, float, float]:
    """(posts/s by CPU time, by wall time, each the best of `runs`; CPU posts/s of the first
    run, whose word cache starts cold)."""
    lines = _lines(n)
    default_kb().match("warm up")
    cpu = wall = 0.0
    first = None
    for _ in range(runs):
        c, t = time.process_time(), time.perf_counter()
        classify(iter(lines), io.StringIO())
        rate = n / (time.process_time() - c)
        first = rate if first is None else first
        cpu = max(cpu, rate)
        wall = max(wall, n / (time.perf_counter() - t))
    return cpu, wall, first or 0.0


# /proc's high-water mark, not ru_maxrss: a child's ru_maxrss starts at its parent's.
MEMORY_PROBE = """
import io, sys
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
start = hwm()
sys.path.insert(0, sys.argv[1])
from bot.commands.classify import classify
lines = [line.encode() for line in sys.stdin]
classify(iter(lines), io.StringIO())
print((hwm() - start) / 1024)
"""


def memory(n: int) -> float:
    """MB of peak RSS the knowledge base and matcher add to a fresh interpreter classifying n posts."""
    data = b"".join(_lines(n))
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(ROOT)], input=data, cwd=ROOT, check=True,
                         capture_output=True)
    return float(out.stdout)


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
    if not args.no_heldout:
        for p in HELDOUT:
            if p.exists():
                print(f"HELD-OUT {p.name}: {json.dumps(figures(read(p)))}")
        both = [r for p in HELDOUT if p.exists() for r in read(p)]
        print(f"HELD-OUT all: {json.dumps(figures(both))}")
    for p in DEV:
        print(f"DEVELOPMENT {p.name}: {json.dumps(figures(read(p)))}")
    cpu, wall, first = throughput(args.posts)
    print(f"classify posts/s (one core, after start-up, best of 3): {cpu:,.0f} by CPU time, {wall:,.0f} by wall time"
          f" (first run, cold word cache: {first:,.0f})")
    print(f"ask start-up (best of 5): {startup():.3f} s")
    print(f"memory the matcher adds (peak RSS, classifying {args.posts:,} posts): {memory(args.posts):.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
