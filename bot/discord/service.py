"""Run the Discord adapter until `stop` is set; fail at start-up with one clear line.

A network failure at start-up (DNS, connection refused, timeout, a 5xx from the API, the
gateway closing with a resumable code) is retried with capped exponential backoff, one
log line when the state changes and the attempt count and next retry in `/healthz`;
only a refused token or a missing privileged intent stops the bot, with one line. Once
connected, discord.py reconnects by itself; its per-attempt tracebacks are cut to one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord

from bot.config import Config, ConfigError
from bot.core.engine import Engine
from bot.discord.client import FarmhandBot
from bot.discord.context import PLATFORM, Deps
from bot.discord.endpoints import api_endpoints
from bot.ops.health import Health
from bot.state import Store

log = logging.getLogger(__name__)

MISSING_INTENT = (
    "Discord refused the Message Content intent: enable it in the Developer Portal "
    "(your application -> Bot -> Privileged Gateway Intents -> Message Content Intent), see docs/discord.md"
)
REJECTED_LOGIN = "Discord rejected the token in FARMHAND_DISCORD_TOKEN (401): copy the bot token again from the Developer Portal"


RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 60.0
# Gateway close codes that no retry can fix: bad token, sharding or intents.
FATAL_CLOSE_CODES = frozenset({4004, 4010, 4011, 4012, 4013, 4014})


class DiscordStartupError(ConfigError):
    """The bot cannot start on Discord (wrong token, Message Content intent off). One line."""


def is_transient(exc: BaseException) -> bool:
    """A failure a later attempt may not have: network, timeout, 5xx, a resumable gateway close."""
    if isinstance(exc, discord.ConnectionClosed):
        return exc.code not in FATAL_CLOSE_CODES
    if isinstance(exc, discord.DiscordServerError | discord.GatewayNotFound):
        return True
    if isinstance(exc, discord.HTTPException):
        return exc.status == 429
    return isinstance(exc, OSError | aiohttp.ClientError | asyncio.TimeoutError)


def describe(exc: BaseException) -> str:
    """One line about a failure: its type and status or close code (no URL, no token)."""
    if isinstance(exc, discord.HTTPException):
        return f"{type(exc).__name__} {exc.status}"
    if isinstance(exc, discord.ConnectionClosed):
        return f"gateway closed {exc.code}"
    return type(exc).__name__


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry `attempt` (1-based): base, 2 x base, 4 x base, ... never above `cap`."""
    return min(cap, base * 2 ** min(attempt - 1, 30))


class _OneLineReconnects(logging.Filter):
    """discord.py logs every gateway reconnect attempt with a traceback: keep one line, only the first
    of a run of failures (`reset()` when connected again)."""

    def __init__(self) -> None:
        super().__init__()
        self.quiet = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Attempting a reconnect"):
            return True
        if self.quiet:
            return False
        self.quiet = True
        kind = record.exc_info[1] if record.exc_info else None
        record.msg = "discord: gateway connection lost (%s); discord.py reconnects with backoff"
        record.args = (describe(kind) if kind is not None else "unknown",)
        record.exc_info, record.exc_text = None, None
        return True

    def reset(self) -> None:
        self.quiet = False


@contextlib.contextmanager
def _quiet_discord_logs() -> Iterator[_OneLineReconnects]:
    """No voice-support warnings (the bot has no voice), one-line reconnect messages."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    one_line = _OneLineReconnects()
    logger = logging.getLogger("discord.client")
    logger.addFilter(one_line)
    try:
        yield one_line
    finally:
        logger.removeFilter(one_line)


async def _run_once(bot: FarmhandBot, token: str, stop: asyncio.Event) -> BaseException | None:
    """Run one client until it fails or `stop` is set; the failure, or None when stopped."""
    runner = asyncio.create_task(bot.start(token), name="discord")
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not bot.is_closed():
            await bot.close()  # also after a failed start: closes the HTTP session
        await asyncio.wait({runner}, timeout=10)
        if not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
    return runner.exception() if not runner.cancelled() else None


async def run_discord(
    cfg: Config,
    engine: Engine,
    store: Store,
    health: Health,
    stop: asyncio.Event,
    *,
    retry_base: float = RETRY_BASE_SECONDS,
    retry_cap: float = RETRY_CAP_SECONDS,
    **bot_options: Any,
) -> None:
    """Connect to Discord (through `cfg.discord.api_base`) and serve until `stop` is set.

    Raises `DiscordStartupError` for a wrong token or a missing Message Content intent;
    retries transient failures before the first connection (`retry_base` doubling up to
    `retry_cap` seconds). `bot_options` go to discord.py's client (tests shorten
    `guild_ready_timeout`).
    """
    dcfg = cfg.discord
    if dcfg is None:
        raise ConfigError(f"{cfg.source}: no discord section")
    health.register(PLATFORM)
    deps = Deps(cfg=dcfg, engine=engine, store=store, health=health, shadow=cfg.shadow)
    attempt, last_kind = 0, ""
    with api_endpoints(dcfg.api_base), _quiet_discord_logs() as one_line:
        while True:
            bot = FarmhandBot(deps, on_connected=one_line.reset, **bot_options)
            exc = await _run_once(bot, dcfg.token, stop)
            if exc is None or stop.is_set():
                health.connected(PLATFORM, False)
                return
            if isinstance(exc, discord.PrivilegedIntentsRequired) or (
                isinstance(exc, discord.ConnectionClosed) and exc.code == 4014
            ):
                health.error(PLATFORM, "Message Content intent not enabled", disconnected=True)
                raise DiscordStartupError(MISSING_INTENT) from None
            if isinstance(exc, discord.LoginFailure) or (
                isinstance(exc, discord.ConnectionClosed) and exc.code == 4004
            ):
                health.error(PLATFORM, "token rejected", disconnected=True)
                raise DiscordStartupError(REJECTED_LOGIN) from None
            if bot.connected_once or not is_transient(exc):
                health.error(PLATFORM, f"discord stopped: {describe(exc)}", disconnected=True)
                raise exc
            attempt += 1
            delay = backoff_delay(attempt, retry_base, retry_cap)
            what = describe(exc)
            if what != last_kind:  # one line per state change, not per attempt
                log.warning(
                    "discord: cannot reach Discord (%s); retrying with backoff up to %g s", what, retry_cap
                )
                last_kind = what
            health.error(
                PLATFORM,
                f"cannot reach Discord ({what}); attempt {attempt} failed, next in {delay:g} s",
                disconnected=True,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
