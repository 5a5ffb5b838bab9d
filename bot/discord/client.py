"""The discord.py bot: intents, no-ping defaults, cogs, command sync, and the error boundary."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs.appcommands import AppCommandsCog
from bot.discord.cogs.autoreply import AutoReplyCog
from bot.discord.cogs.direct import DirectMessagesCog
from bot.discord.context import NO_PINGS, PLATFORM, Deps, platform_error
from bot.discord.endpoints import use_advertised_gateway
from bot.discord.sync import sync_if_changed

log = logging.getLogger(__name__)

USER_ERROR_TEXT = (
    "Something went wrong on my side; it has been logged for the maintainers. Please try again later."
)


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

    def __init__(self, deps: Deps, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(),
            allowed_mentions=NO_PINGS,
            help_command=None,
            **options,
        )
        self.deps = deps
        self.tree.on_error = self.on_app_command_error

    async def setup_hook(self) -> None:
        """Resolve the gateway, load cogs, sync commands when the set changed."""
        await use_advertised_gateway(self.http)
        await self.add_cog(AutoReplyCog(self, self.deps))
        await self.add_cog(DirectMessagesCog(self, self.deps))
        await self.add_cog(AppCommandsCog(self, self.deps))
        await sync_if_changed(self.tree, self.deps.store, self.application_id)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cogs' listeners do the work."""

    async def on_ready(self) -> None:
        self.deps.health.ok(PLATFORM)
        log.info(
            "discord: connected as %s (%s), %d guild(s)",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
        )

    async def on_resumed(self) -> None:
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
