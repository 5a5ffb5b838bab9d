"""Finding 6: a platform that sends headers and then one byte at a time cannot hold the bot.

Each forum call has a total deadline that really ends it (its socket is shut, so the worker
thread stops reading), and at most MAX_IN_FLIGHT calls run at once. The sandbox trickles
`/posts.json` far faster than any per-read timeout would notice. Discord's REST calls get a
total deadline per attempt as well (aiohttp ends them), checked against a trickling fake Discord.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.error
import urllib.request

from bot.discourse.client import MAX_IN_FLIGHT, ForumClient, ForumUnavailable
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE, polls, start, stop, wait_for, write_config

DEADLINE = 0.5


async def _until(pred, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not pred() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return bool(pred())


async def test_trickled_calls_end_at_their_deadline_and_few_run_at_once(forum):
    client = ForumClient(forum.url, "farmhand", forum.api_key, timeout=DEADLINE)
    forum.trickle("GET", "/posts.json", seconds_per_byte=0.05)  # a byte every 50 ms: no read ever times out
    t0 = time.monotonic()
    results = await asyncio.gather(*(client.latest_posts() for _ in range(10)), return_exceptions=True)
    elapsed = time.monotonic() - t0
    assert all(isinstance(r, ForumUnavailable) for r in results), results
    assert elapsed < 3 * DEADLINE  # each ended at its deadline (a slot's wait is inside it)
    assert forum.trickles_max_open <= MAX_IN_FLIGHT  # bounded: the others waited for a slot
    # every trickled connection was hung up by the bot, not left reading
    assert await _until(lambda: forum.trickles_open == 0, 2), forum.trickles_open
    assert max(forum.trickle_lifetimes) < DEADLINE + 0.5
    assert await _until(lambda: client.in_flight == 0, 1)  # the threads really finished
    # the loop's default threads were never taken, and the forum works again at once
    assert await asyncio.wait_for(asyncio.to_thread(lambda: 42), 1) == 42
    forum.trickle(None)
    assert await client.latest_posts() == []
    client.close()


def _healthz_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            r.read()
    except urllib.error.HTTPError:
        return True  # a 503 is an answer
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_trickling_forum_does_not_wedge_farmhand_run(forum, tmp_path):
    port = _free_port()
    cfg = write_config(tmp_path, forum.url, extra=f"http:\n  listen: 127.0.0.1:{port}\n")
    cfg.write_text(cfg.read_text().replace("request_timeout: 10", f"request_timeout: {DEADLINE}"))
    proc = start(cfg, forum.api_key)
    try:
        assert wait_for(lambda: polls(forum) >= 2), "the bot did not start polling"
        forum.trickle("GET", "/posts.json", seconds_per_byte=0.05)
        until = time.monotonic() + 3.0
        while time.monotonic() < until:  # the bot keeps trying; its listener keeps answering
            assert _healthz_answers(port)
            time.sleep(0.2)
        assert len(forum.trickle_lifetimes) >= 2, "the bot stopped trying"
        forum.trickle(None)
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1, 15)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert forum.trickles_max_open <= MAX_IN_FLIGHT
    assert max(forum.trickle_lifetimes) < DEADLINE + 1.0, forum.trickle_lifetimes  # hung up at the deadline
    assert "Traceback" not in err


async def test_a_trickling_discord_answer_ends_at_the_call_deadline(tmp_path):
    """The same for Discord's REST API: each attempt has a total deadline (aiohttp ends it), so a
    reply whose answer trickles is given up and the next one goes out once Discord recovers."""
    from bot.core.engine import Engine
    from bot.discord.service import run_discord
    from bot.ops.health import Health
    from bot.state import Store
    from knowledge import default_kb
    from tests.bot.discord.fake_discord import WATCHED_ID, running_fake, user_payload
    from tests.bot.discord.test_end_to_end import _config, _connected, _sent_to

    alice = user_payload(700_000_000_000_000_001, "alice")
    question = "Can I run a ZOS farming node in a VM on my Proxmox server?"
    store, health, stop = Store(tmp_path / "state.sqlite3"), Health(), asyncio.Event()
    async with running_fake() as fake:
        task = asyncio.create_task(
            run_discord(
                _config(fake, tmp_path), Engine(default_kb()), store, health, stop,
                guild_ready_timeout=0.05, call_deadline=DEADLINE,
            )
        )
        try:
            assert await _until(lambda: _connected(health), 10)
            fake.trickle_messages = True
            await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, alice, question))
            assert await _until(lambda: len(fake.trickle_lifetimes) == 1, 5), "the reply was never given up"
            assert fake.trickle_lifetimes[0] < DEADLINE + 0.5
            fake.trickle_messages = False
            await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, alice, question + " Really?"))
            assert await _until(lambda: len(_sent_to(fake, WATCHED_ID)) == 1, 5)
        finally:
            fake.trickle_messages = False
            stop.set()
            await asyncio.wait_for(task, 10)
    store.close()
