"""Reply latency of the Discord adapter: real discord.py client against the local fake Discord.

Dispatches N questions (and N look-alikes) in a watched channel over the fake gateway
and measures the time from dispatch to the reply's POST arriving at the fake REST API.
Loopback only; bounded by N. Usage: .venv/bin/python bench/discord_reply.py [N]
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Config, DiscordConfig
from bot.core.engine import Engine
from bot.discord.service import run_discord
from bot.ops.health import Health
from bot.state import Store
from knowledge import default_kb
from tests.bot.discord.conftest import LOOK_ALIKE, QUESTION
from tests.bot.discord.fake_discord import TOKEN, WATCHED_ID, running_fake, user_payload


async def main(n: int) -> None:
    kb = default_kb()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "state.sqlite3")
        health = Health()
        async with running_fake() as fake:
            cfg = Config(
                state_path=Path(tmp) / "state.sqlite3",
                discord=DiscordConfig(
                    token=TOKEN, watch_channels=(WATCHED_ID,), api_base=fake.api_base, cooldown_seconds=0
                ),
            )
            stop = asyncio.Event()
            t0 = time.perf_counter()
            task = asyncio.create_task(
                run_discord(cfg, Engine(kb), store, health, stop, guild_ready_timeout=0.05)
            )
            while not health.snapshot()["platforms"].get("discord", {}).get("connected"):
                await asyncio.sleep(0.005)
            startup = time.perf_counter() - t0
            latencies = []
            for i in range(n):
                author = user_payload(10_000 + i, f"user{i}")
                await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, author, LOOK_ALIKE))
                start = time.perf_counter()
                await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, author, f"{QUESTION} ({i})"))
                await fake.wait_for_writes(i + 1, timeout=10)
                latencies.append(time.perf_counter() - start)
            stop.set()
            await task
        store.close()
    latencies.sort()
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"start-up to READY (login, /gateway/bot, command sync, gateway): {startup * 1000:.0f} ms")
    print(
        f"{n} questions (+{n} look-alikes): reply latency median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(0.95 * (n - 1))] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
