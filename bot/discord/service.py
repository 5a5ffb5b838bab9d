"""Run the Discord adapter until `stop` is set; fail at start-up with one clear line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

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


class DiscordStartupError(ConfigError):
    """The bot cannot start on Discord (wrong token, Message Content intent off). One line."""


async def run_discord(
    cfg: Config, engine: Engine, store: Store, health: Health, stop: asyncio.Event, **bot_options: Any
) -> None:
    """Connect to Discord (through `cfg.discord.api_base`) and serve until `stop` is set.

    Raises `DiscordStartupError` for a wrong token or a missing Message Content intent.
    `bot_options` go to discord.py's client (tests shorten `guild_ready_timeout`).
    """
    dcfg = cfg.discord
    if dcfg is None:
        raise ConfigError(f"{cfg.source}: no discord section")
    health.register(PLATFORM)
    deps = Deps(cfg=dcfg, engine=engine, store=store, health=health, shadow=cfg.shadow)
    with api_endpoints(dcfg.api_base):
        bot = FarmhandBot(deps, **bot_options)
        runner = asyncio.create_task(bot.start(dcfg.token), name="discord")
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
        exc = runner.exception() if not runner.cancelled() else None
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            health.error(PLATFORM, "Message Content intent not enabled", disconnected=True)
            raise DiscordStartupError(MISSING_INTENT) from None
        if isinstance(exc, discord.LoginFailure):
            health.error(PLATFORM, "token rejected", disconnected=True)
            raise DiscordStartupError(REJECTED_LOGIN) from None
        if exc is not None:
            health.error(PLATFORM, f"discord stopped: {type(exc).__name__}", disconnected=True)
            raise exc
        health.connected(PLATFORM, False)
