"""The discord.py bot: intents, no-ping defaults, cogs, command sync, and the error boundary."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs.appcommands import AppCommandsCog
from bot.discord.cogs.autoreply import AutoReplyCog
from bot.discord.cogs.direct import DirectMessagesCog
from bot.discord.context import NO_PINGS, PLATFORM, Deps, platform_error
from bot.discord.endpoints import use_advertised_gateway
from bot.discord.recovery import DEFAULT_SPACING_SECONDS, ClaimRecovery
from bot.discord.sync import sync_if_changed
from bot.discord.triage import TriageCog

log = logging.getLogger(__name__)

# One REST attempt (connect, send, read the whole answer) ends after this, however slowly Discord
# trickles; discord.py's own rate-limit waits between attempts are not counted. aiohttp's
# default is five minutes.
CALL_DEADLINE_SECONDS = 30.0
MAX_CONNECTIONS = 8  # REST connections open at once (discord.py's default: no limit)

USER_ERROR_TEXT = (
    "Something went wrong on my side; it has been logged for the maintainers. Please try again later."
)


class DeadlineExceeded(discord.DiscordServerError):
    """A REST call that did not finish within its deadline. A server error to every caller (the
    same handling as a 5xx: logged in one line, counted as http_5xx), never an unhandled
    TimeoutError in an event handler."""

    def __init__(self, seconds: float) -> None:
        Exception.__init__(self, f"no complete answer within {seconds:g} s")
        self.response = None  # type: ignore[assignment]
        self.status, self.code, self.text = 504, 0, str(self)


def _with_deadline(request: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """discord.py's HTTPClient.request with a total deadline on each attempt (aiohttp ends it)."""

    async def bounded(route: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=seconds))
        try:
            return await request(route, **kwargs)
        except TimeoutError:  # aiohttp's ServerTimeoutError is one too
            raise DeadlineExceeded(seconds) from None

    return bounded


def build_intents() -> discord.Intents:
    """Default intents (guilds, messages, reactions, DMs) plus Message Content, which is privileged.

    Members and presences are not needed: message and interaction payloads carry the
    author's roles.
    """
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class FarmhandBot(commands.Bot):
    """A `commands.Bot` whose every message pings nobody, with farmhand's cogs."""

    def __init__(
        self,
        deps: Deps,
        *,
        recovery_spacing: float = DEFAULT_SPACING_SECONDS,
        on_connected: Callable[[], None] | None = None,
        call_deadline: float = CALL_DEADLINE_SECONDS,
        **options: Any,
    ) -> None:
        # Claims made before this moment belong to an earlier process: only those are recovered.
        self.started_at = time.time()
        self.connected_once = False  # READY seen: later failures are not start-up failures
        self._on_connected = on_connected
        self.recovery_spacing = recovery_spacing
        self.recovery: ClaimRecovery | None = None
        self._recovery_task: asyncio.Task[Any] | None = None
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(),
            allowed_mentions=NO_PINGS,
            help_command=None,
            **options,
        )
        self.deps = deps
        self.tree.on_error = self.on_app_command_error
        self.http.request = _with_deadline(self.http.request, call_deadline)  # type: ignore[method-assign]

    async def login(self, token: str) -> None:
        """Log in with a bounded connection pool (made here: a connector needs the running loop)."""
        if not isinstance(getattr(self.http, "connector", None), aiohttp.BaseConnector):
            self.http.connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
        await super().login(token)

    async def setup_hook(self) -> None:
        """Resolve the gateway, load cogs, sync commands when the set changed."""
        await use_advertised_gateway(self.http)
        autoreply = AutoReplyCog(self, self.deps)
        direct = DirectMessagesCog(self, self.deps)
        await self.add_cog(autoreply)
        await self.add_cog(direct)
        self.recovery = ClaimRecovery(
            self, self.deps, autoreply, direct, started_at=self.started_at, spacing=self.recovery_spacing
        )
        await self.add_cog(AppCommandsCog(self, self.deps))
        await self.add_cog(TriageCog(self, self.deps))
        await sync_if_changed(self.tree, self.deps.store, self.application_id)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cogs' listeners do the work."""

    async def on_ready(self) -> None:
        self.connected_once = True
        if self._on_connected is not None:
            self._on_connected()
        self.deps.health.ok(PLATFORM)
        # READY comes again after every new session (not after a RESUME); recover once.
        if self._recovery_task is None and self.recovery is not None:
            self._recovery_task = asyncio.create_task(self.recovery.run(), name="discord-recovery")
        log.info(
            "discord: connected as %s (%s), %d guild(s)",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
        )

    async def close(self) -> None:
        """Stop the start-up recovery (if still running), then disconnect."""
        task = self._recovery_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().close()

    async def on_resumed(self) -> None:
        if self._on_connected is not None:
            self._on_connected()
        self.deps.health.ok(PLATFORM)

    async def on_disconnect(self) -> None:
        self.deps.health.error(PLATFORM, "gateway disconnected", disconnected=True)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Error boundary for gateway events: log with context, never crash, never reply with a traceback."""
        log.exception("discord: event %s failed", event_method)
        platform_error(RuntimeError(event_method))

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Error boundary for commands: log with context, tell the user one line."""
        original = getattr(error, "original", error)
        name = interaction.command.name if interaction.command else "?"
        if isinstance(original, discord.HTTPException):
            platform_error(original)
        log.error("discord: command %s by %s failed", name, interaction.user.id, exc_info=original)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(USER_ERROR_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
            else:
                await interaction.response.send_message(
                    USER_ERROR_TEXT, ephemeral=True, allowed_mentions=NO_PINGS
                )
        except discord.HTTPException:
            pass  # the interaction expired: the log has it
