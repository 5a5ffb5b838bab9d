"""Finding 4: the platforms are independent.

A refused credential, or a forum that is slow to answer at start-up, stops (or delays) only
its own platform; the service ends only when no configured platform can work. The real
service (`run_service`) with the sandbox forum and the fake Discord, both on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from bot.config import Config, DiscordConfig, DiscourseConfig
from bot.service import StartupError, run_service
from tests.bot.discord.fake_discord import MOD_ROLE_ID, TOKEN, WATCHED_ID, running_fake, user_payload
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE, exit_of, start, stop, wait_for, write_config

pytestmark = pytest.mark.timeout(60)
ALICE = user_payload(700_000_000_000_000_001, "alice")
QUESTION = "Can I run a ZOS farming node in a VM on my Proxmox server?"


def _config(tmp_path, forum, fake, *, key: str | None = None, token: str = TOKEN, timeout: float = 3.0) -> Config:
    return Config(
        state_path=tmp_path / "state.sqlite3",
        mode="live",
        discourse=DiscourseConfig(
            url=forum.url,
            api_username="farmhand",
            api_key=key or forum.api_key,
            poll_seconds=0.1,
            request_timeout=timeout,
        ),
        discord=DiscordConfig(
            token=token, watch_channels=(WATCHED_ID,), api_base=fake.api_base, moderator_roles=(MOD_ROLE_ID,)
        ),
    )


@contextlib.asynccontextmanager
async def _service(cfg: Config):
    stop = asyncio.Event()
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_service(
            cfg, stop=stop, on_ready=lambda r: ready.set_result(r), discord_options={"guild_ready_timeout": 0.05}
        )
    )
    try:
        yield task, ready
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


async def _until(pred, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _platform(running, name: str) -> dict:
    return running.health.snapshot()["platforms"].get(name, {})


async def test_a_refused_forum_key_leaves_discord_running(forum, tmp_path):
    async with running_fake() as fake, _service(_config(tmp_path, forum, fake, key="revoked")) as (task, ready):
        running = await asyncio.wait_for(asyncio.shield(ready), 10)
        await _until(lambda: _platform(running, "discord").get("connected"))
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, ALICE, QUESTION))
        await fake.wait_for_writes(1)
        assert not task.done()
        problems = _platform(running, "discourse")["problems"]
        assert len(problems) == 1 and problems[0].startswith("stopped: ") and "refused the API key" in problems[0]
        assert forum.url not in problems[0]  # no host in health
        assert _platform(running, "discord")["problems"] == []
    assert task.result() is None  # stopped by the stop event, not by the forum


async def test_a_refused_discord_token_leaves_the_forum_running(forum, tmp_path):
    async with running_fake() as fake, _service(_config(tmp_path, forum, fake, token="wrong")) as (task, ready):
        running = await asyncio.wait_for(asyncio.shield(ready), 10)
        await _until(lambda: _platform(running, "discord").get("problems", [""])[0].startswith("stopped: "))
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        await _until(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1)
        assert not task.done()
        assert "FARMHAND_DISCORD_TOKEN" in _platform(running, "discord")["problems"][0]
        assert _platform(running, "discourse")["problems"] == []
    assert task.result() is None


async def test_every_credential_refused_ends_the_service_with_every_reason(forum, tmp_path):
    async with running_fake() as fake:
        cfg = _config(tmp_path, forum, fake, key="revoked", token="wrong")
        with pytest.raises(StartupError) as caught:
            await asyncio.wait_for(run_service(cfg, discord_options={"guild_ready_timeout": 0.05}), 20)
    message = str(caught.value)
    assert "\n" not in message  # one line after "error: "
    assert "refused the API key" in message and "FARMHAND_DISCORD_TOKEN" in message


async def test_a_forum_slow_at_start_up_does_not_hold_discord_back(forum, tmp_path):
    """The forum sends its headers and then trickles: its start-up check takes its whole
    deadline, and Discord is connected and answering meanwhile."""
    forum.trickle("GET", "/session/current.json", seconds_per_byte=0.05)
    async with running_fake() as fake, _service(_config(tmp_path, forum, fake, timeout=4.0)) as (task, ready):
        started = time.monotonic()
        await asyncio.wait_for(fake.ready.wait(), 10)
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, ALICE, QUESTION))
        await fake.wait_for_writes(1)
        assert time.monotonic() - started < 3.0  # well before the forum's check gave up
        assert not ready.done()  # the forum's start-up check is still waiting
        forum.trickle(None)
        running = await asyncio.wait_for(asyncio.shield(ready), 15)
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        await _until(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1, 20)
        assert not task.done() and running.discourse is not None


# -- the same with a real `farmhand run` process (the fake Discord on a thread of its own) --------


@contextlib.contextmanager
def _fake_discord_on_a_thread():
    """The fake Discord served by its own event loop on a thread, so a child process can use it."""
    import threading

    from tests.bot.discord.fake_discord import FakeDiscord

    loop = asyncio.new_event_loop()
    fake = FakeDiscord()
    thread = threading.Thread(target=loop.run_forever, name="fake-discord", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake, loop
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _process_config(tmp_path, forum, fake):
    return write_config(
        tmp_path,
        forum.url,
        extra=f"discord:\n  watch_channels: [{WATCHED_ID}]\n  api_base: {fake.api_base}\n",
    )


def test_farmhand_run_keeps_discord_when_the_forum_refuses_its_key(forum, tmp_path):
    with _fake_discord_on_a_thread() as (fake, loop):
        cfg = _process_config(tmp_path, forum, fake)
        proc = start(cfg, "revoked-key", env_over={"FARMHAND_DISCORD_TOKEN": TOKEN})
        try:
            assert wait_for(lambda: fake.ready.is_set(), 20), "Discord never connected"
            message = fake.message(WATCHED_ID, ALICE, QUESTION)
            asyncio.run_coroutine_threadsafe(fake.dispatch("MESSAGE_CREATE", message), loop).result(5)
            asyncio.run_coroutine_threadsafe(fake.wait_for_writes(1, timeout=10), loop).result(15)
            assert proc.poll() is None, "farmhand run exited although Discord works"
        finally:
            code, err = stop(proc)
    assert code == 0, err
    stopped = [line for line in err.splitlines() if "discourse stopped" in line]
    assert len(stopped) == 1 and "refused the API key" in stopped[0] and forum.url not in stopped[0], err
    assert "revoked-key" not in err and "Traceback" not in err


def test_farmhand_run_exits_when_every_credential_is_refused(forum, tmp_path):
    with _fake_discord_on_a_thread() as (fake, _loop):
        proc = start(_process_config(tmp_path, forum, fake), "revoked-key", env_over={"FARMHAND_DISCORD_TOKEN": "wrong"})
        code, err = exit_of(proc)
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "refused the API key" in lines[0] and "FARMHAND_DISCORD_TOKEN" in lines[0], err
    assert "Traceback" not in err
