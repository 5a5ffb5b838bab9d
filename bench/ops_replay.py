"""Replay throughput and /healthz, /metrics latency, on this machine.

    .venv/bin/python bench/ops_replay.py [N_POSTS]

Writes nothing; prints the figures recorded in docs/operations.md. Posts are generated
(a mix of on-topic and off-topic forum-like texts), so the bench needs no data set.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import knowledge
from bot.config import HttpConfig
from bot.ops.health import Health
from bot.ops.replay import read_export, replay, replay_report
from bot.web import bound_port, start_http

TEXTS = [
    "Can I run a Zero OS node in a Proxmox VM and still earn farming rewards?",
    "How do I change the payout wallet of my farm?",
    "I rent a VPS at Hetzner. Is it possible to farm TFT with zos on it?",
    "What is the best GPU for AI workloads on the grid?",
    "My node shows offline in the dashboard since the last update, any ideas?",
    "Will my node in VirtualBox earn rewards? It boots fine.",
]


def bench_replay(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"id": i, "text": f"{TEXTS[i % len(TEXTS)]} ({i})"}) + "\n")
        kb = knowledge.default_kb()
        t0 = time.perf_counter()
        posts = read_export(path)
        t1 = time.perf_counter()
        result = replay(posts, kb)
        t2 = time.perf_counter()
        replay_report(result, source=str(path))
        t3 = time.perf_counter()
    print(
        f"replay of {n} posts: read {t1 - t0:.2f}s, match and threshold table {t2 - t1:.2f}s, "
        f"digest {t3 - t2:.2f}s; {n / (t3 - t0):.0f} posts/s end to end"
    )


async def bench_http(rounds: int = 300) -> None:
    health = Health()
    health.ok("discourse")
    runner = await start_http(HttpConfig(port=0), health)
    base = f"http://127.0.0.1:{bound_port(runner)}"

    def fetch(path: str) -> float:
        t = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=5) as resp:  # loopback only
            resp.read()
        return time.perf_counter() - t

    try:
        for path in ("/healthz", "/metrics"):
            times = [await asyncio.to_thread(fetch, path) for _ in range(rounds)]
            p50, p99 = statistics.median(times), sorted(times)[int(0.99 * len(times)) - 1]
            print(f"GET {path}: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms over {rounds} requests")
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    print(f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    bench_replay(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    asyncio.run(bench_http())
