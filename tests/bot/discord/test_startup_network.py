"""Start-up without a network: retried with capped backoff, one log line per state change, shown in /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import discord
import pytest

from bot.discord.service import DiscordStartupError, backoff_delay, is_transient, run_discord
from tests.bot.discord.fake_discord import FakeDiscord, running_fake
from tests.bot.discord.test_end_to_end import _config, _connected, _until

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def _bot(cfg, engine, store, health):
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_discord(
            cfg, engine, store, health, stop, retry_base=0.02, retry_cap=0.1, guild_ready_timeout=0.05
        )
    )
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_tracebacks(caplog) -> None:
    with_trace = [r for r in caplog.records if r.exc_info or r.exc_text]
    assert with_trace == [], [r.getMessage() for r in with_trace]


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(n, 1, 60) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(10_000, 1, 60) == 60


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (OSError("connection refused"), True),
        (TimeoutError(), True),
        (discord.LoginFailure("bad"), False),
        (discord.PrivilegedIntentsRequired(None), False),
    ],
)
def test_what_is_transient(exc, transient):
    assert is_transient(exc) is transient


async def test_connection_refused_at_start_up_is_retried_until_discord_is_there(
    tmp_path, engine, store, health, caplog
):
    caplog.set_level(logging.INFO)
    port = _free_port()
    fake = FakeDiscord()
    fake.port = port  # api_base points at a port where nothing listens yet
    async with _bot(_config(fake, tmp_path), engine, store, health) as task:
        await _until(
            lambda: "attempt 3" in (health.snapshot()["platforms"].get("discord", {}).get("last_error") or "")
        )
        discord_health = health.snapshot()["platforms"]["discord"]
        assert discord_health["connected"] is False
        assert discord_health["last_error"].startswith("cannot reach Discord (ClientConnectorError)")
        assert not task.done()
        await fake.start(port)
        await _until(lambda: _connected(health))
    await fake.stop()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines == [
        "discord: cannot reach Discord (ClientConnectorError); retrying with backoff up to 0.1 s"
    ], "one line for the state change, not one per attempt"
    assert any(r.getMessage().startswith("discord: connected as") for r in caplog.records)
    _no_tracebacks(caplog)


async def test_5xx_at_start_up_is_retried(tmp_path, engine, store, health, caplog):
    async with running_fake(unavailable=4) as fake, _bot(_config(fake, tmp_path), engine, store, health):
        await _until(lambda: _connected(health))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "discord: cannot reach Discord (DiscordServerError 503); retrying with backoff up to 0.1 s"
    ]
    _no_tracebacks(caplog)


async def test_a_resumable_gateway_close_at_start_up_is_retried_without_a_traceback(
    tmp_path, engine, store, health, caplog
):
    async with running_fake(close_identify=1) as fake, _bot(_config(fake, tmp_path), engine, store, health):
        await _until(lambda: _connected(health), timeout=30)
        assert len(fake.identify_payloads) == 2, (
            "identified again after the close"
        )  # discord.py waits 5 s first
    _no_tracebacks(caplog)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1


async def test_no_voice_warnings(tmp_path, engine, store, health, caplog, monkeypatch):
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    async with running_fake() as fake, _bot(_config(fake, tmp_path), engine, store, health):
        await _until(lambda: _connected(health))
    assert not [r for r in caplog.records if "voice" in r.getMessage().lower()]


async def test_a_refused_token_still_exits_with_one_line_without_retrying(tmp_path, engine, store, health):
    async with running_fake() as fake:
        with pytest.raises(DiscordStartupError, match="FARMHAND_DISCORD_TOKEN"):
            async with _bot(_config(fake, tmp_path, token="wrong"), engine, store, health) as task:
                await asyncio.wait_for(asyncio.shield(task), 10)
        assert [w for w in fake.writes] == []


async def test_a_token_the_gateway_refuses_4004_exits_with_one_line(tmp_path, engine, store, health):
    async with running_fake() as fake:
        fake.gateway_token = "revoked meanwhile"
        with pytest.raises(DiscordStartupError, match="FARMHAND_DISCORD_TOKEN"):
            async with _bot(_config(fake, tmp_path), engine, store, health) as task:
                await asyncio.wait_for(asyncio.shield(task), 10)
        assert len(fake.identify_payloads) == 1, "not retried"


def test_discord_py_reconnect_tracebacks_become_one_line_per_outage(caplog):
    from bot.discord.service import _quiet_discord_logs

    logger = logging.getLogger("discord.client")
    with _quiet_discord_logs() as one_line:
        for _ in range(3):
            try:
                raise OSError("Connect call failed")
            except OSError:
                logger.exception("Attempting a reconnect in %.2fs", 1.5)
        one_line.reset()  # connected again
        try:
            raise TimeoutError
        except TimeoutError:
            logger.exception("Attempting a reconnect in %.2fs", 1.5)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "discord: gateway connection lost (OSError); discord.py reconnects with backoff",
        "discord: gateway connection lost (TimeoutError); discord.py reconnects with backoff",
    ]
    _no_tracebacks(caplog)
    assert not logger.filters, "the filter is removed after the run"
