"""Post -> reply latency of the Discourse adapter on loopback, by polling and by webhook.

Targets (issue 4): a new topic answered within `poll_seconds` + 1 s by polling, and
within 1 s by webhook. Runs the real service (`run_service`, real pydiscourse over HTTP)
against the sandbox forum and times N on-topic topics each way.

    .venv/bin/python bench/bench_forum_latency.py [--n 10] [--poll 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Config, DiscourseConfig, HttpConfig
from bot.sandbox import SandboxForum
from bot.service import run_service

TITLE = "Can I farm ThreeFold in a Proxmox VM? ({i})"
TEXT = (
    "I have a Proxmox server at home. Can I run a Zero OS node in a VM on it and still earn farming rewards?"
)
SECRET = "bench-webhook-secret"


async def measure(n: int, poll: float, webhook: bool) -> list[float]:
    forum = SandboxForum().start()
    forum.add_user("farmhand", moderator=True)
    forum.add_user("alice")
    out: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Config(
                state_path=Path(tmp) / "state.sqlite3",
                discourse=DiscourseConfig(
                    url=forum.url,
                    api_username="farmhand",
                    api_key=forum.api_key,
                    webhook_secret=SECRET if webhook else None,
                    poll_seconds=poll,
                    request_timeout=5,
                ),
                http=HttpConfig("127.0.0.1", 0) if webhook else None,
            )
            stop = asyncio.Event()
            ready: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(
                run_service(cfg, stop=stop, on_ready=lambda r: ready.set_result(r.http_port))
            )
            port = await ready
            if webhook:
                forum.send_webhooks_to(f"http://127.0.0.1:{port}/webhooks/discourse", SECRET)
            await asyncio.sleep(poll * 0.37)  # start at an arbitrary phase of the poll cycle
            for i in range(n):
                t0 = time.monotonic()
                post = forum.create_topic("alice", TITLE.format(i=i), TEXT)
                while not forum.posts(topic_id=post["topic_id"], username="farmhand"):
                    await asyncio.sleep(0.005)
                out.append(time.monotonic() - t0)
                await asyncio.sleep(poll * 0.29)  # vary the phase
            stop.set()
            await task
    finally:
        forum.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--poll", type=float, default=2.0, help="poll_seconds for the polling run")
    a = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, python {platform.python_version()}")
    polled = asyncio.run(measure(a.n, a.poll, webhook=False))
    hooked = asyncio.run(measure(a.n, 30.0, webhook=True))
    for name, xs, target in (
        (f"polling (poll_seconds={a.poll:g})", polled, a.poll + 1),
        ("webhook (poll_seconds=30)", hooked, 1.0),
    ):
        print(
            f"{name}: n={len(xs)} median {statistics.median(xs):.3f} s, max {max(xs):.3f} s, "
            f"target <= {target:g} s: {'PASS' if max(xs) <= target else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
