"""Slash commands `/baremetal` and `/analyze`, message context menus "Explain bare metal" and "Analyze dump".

Every interaction is answered exactly once: work that may take time (downloading an
attachment, analysing a dump, posting in the channel) is preceded by an ephemeral
`defer()` (interactions expire after 3 s) and finished by editing the deferred response
(plus follow-ups for the rest of a long answer).
`default_permissions` only hides commands in Discord's UI; the moderator checks that
matter are made here in code.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import labels
from bot.core.models import Action, Decision
from bot.discord import convert
from bot.discord.context import NO_PINGS, PLATFORM, Deps, platform_error, send_reply
from bot.discord.render import Reply, build_reply

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "vm-farming"  # /baremetal without a topic: the main answer
NOTHING_TO_ANALYZE = (
    "Attach a `.txt`/`.log` file or paste the output of `dmidecode`, `lscpu`, `systemd-detect-virt` "
    "or `virt-what` in the `text` option."
)
MODERATORS_ONLY = "Only moderators can post an answer in the channel. Try `/baremetal` for a private answer."
NO_ENTRY = "I found no knowledge-base entry for that message. Use `/baremetal topic:` to pick one."


def interaction_is_moderator(interaction: discord.Interaction, deps: Deps) -> bool:
    """Manage Messages in this channel, or a configured moderator role (checked in code)."""
    if interaction.permissions.manage_messages:
        return True
    return convert.is_moderator(interaction.user, deps.cfg)


class AppCommandsCog(commands.Cog, name="AppCommands"):
    """`/baremetal`, `/analyze` and the two message context menus."""

    def __init__(self, bot: commands.Bot, deps: Deps) -> None:
        self.bot = bot
        self.deps = deps
        # Context menus cannot be cog methods: build them here, add them in cog_load.
        self.explain_menu = app_commands.ContextMenu(name="Explain bare metal", callback=self.explain_message)
        self.analyze_menu = app_commands.ContextMenu(name="Analyze dump", callback=self.analyze_message)
        self.explain_menu.guild_only = True
        self.explain_menu.default_permissions = discord.Permissions(manage_messages=True)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.explain_menu)
        self.bot.tree.add_command(self.analyze_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.explain_menu.name, type=self.explain_menu.type)
        self.bot.tree.remove_command(self.analyze_menu.name, type=self.analyze_menu.type)

    def _claim(self, interaction: discord.Interaction) -> bool:
        # A replayed INTERACTION_CREATE must not produce a second response.
        return self.deps.store.claim(
            PLATFORM, f"interaction:{interaction.id}", where=str(interaction.channel_id)
        )

    # -- /baremetal ------------------------------------------------------------------------

    @app_commands.command(name="baremetal", description="Post an answer about farming on bare metal vs VMs")
    @app_commands.describe(
        topic="Which answer (start typing to search)", user="Member to address (not pinged)"
    )
    async def baremetal(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        user: discord.User | None = None,
    ) -> None:
        """Answer from the knowledge base: public for moderators, ephemeral for everyone else."""
        if not self._claim(interaction):
            return
        deps = self.deps
        kb = deps.engine.kb
        # The autocomplete sends an entry id; free text is matched like a question.
        requested = (topic if kb.get(topic) else None) if topic else DEFAULT_TOPIC
        event = convert.command_event(interaction, cfg=deps.cfg, text=topic or "", requested_entry=requested)
        decision = deps.engine.decide(event)
        public = interaction_is_moderator(interaction, deps) and not deps.shadow
        prefix = user.mention if user is not None and public else ""
        reply = build_reply(decision, auto=False, prefix=prefix)
        await self._respond(interaction, reply, ephemeral=not public)
        deps.record(event, decision, posted=public)

    @baremetal.autocomplete("topic")
    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Entry titles matching what was typed so far (value: the entry id)."""
        entries = self.deps.engine.kb.search(current, limit=25)
        return [app_commands.Choice(name=e.title[:100], value=e.id) for e in entries]

    # -- /analyze ----------------------------------------------------------------------------

    @app_commands.command(
        name="analyze", description="Is this machine bare metal? Attach or paste a hardware dump"
    )
    @app_commands.describe(
        file="A .txt or .log file with the output", text="Pasted output of dmidecode, lscpu, ..."
    )
    async def analyze(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        text: str | None = None,
    ) -> None:
        """Verdict on an attached or pasted dump, ephemeral."""
        if not self._claim(interaction):
            return
        # Ephemeral deferral: after a public one the follow-up would stay public.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._analyze(interaction, text or "", [file] if file is not None else [])

    async def _analyze(
        self, interaction: discord.Interaction, text: str, files: list[discord.Attachment]
    ) -> None:
        deps = self.deps
        read = await convert.read_attachments(files, deps.cfg.max_attachment_bytes)
        if not text.strip() and not read.accepted:
            problems = "\n".join(f"- {p}" for p in read.problems)
            await self._followup(interaction, Reply((f"{problems}\n{NOTHING_TO_ANALYZE}".strip(),)))
            return
        event = convert.command_event(interaction, cfg=deps.cfg, text=text, attachments=read.accepted)
        decision = await deps.engine.decide_async(event)
        reply = build_reply(decision, auto=False)
        if read.problems:
            problems = "\n".join(f"- {p}" for p in read.problems)
            reply = Reply((f"Not read:\n{problems}", *reply.chunks), reply.embed)
        await self._followup(interaction, reply)
        deps.record(event, decision, posted=True)

    # -- context menus -------------------------------------------------------------------------

    async def explain_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Moderators: reply to the message with the best-matching entry."""
        if not self._claim(interaction):
            return
        deps = self.deps
        if not interaction_is_moderator(interaction, deps):
            await interaction.response.send_message(MODERATORS_ONLY, ephemeral=True)
            return
        event = convert.command_event(interaction, cfg=deps.cfg, text=message.content)
        decision = deps.engine.decide(event)
        if decision.action not in (Action.ANSWER, Action.BOTH) or decision.entry is None:
            await interaction.response.send_message(NO_ENTRY, ephemeral=True)
            deps.record(event, decision, posted=False)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer_only = Decision(Action.ANSWER, decision.reason, entry=decision.entry, match=decision.match)
        reply = build_reply(answer_only, auto=False)
        if deps.shadow:
            await self._followup(interaction, Reply((f"(shadow mode: not posted)\n{reply.chunks[0]}",)))
            deps.record(event, decision, posted=False, reason=f"shadow: {decision.reason}")
            return
        try:
            await send_reply(message.channel, reply, reference=message)
        except discord.HTTPException as exc:
            kind = platform_error(exc)
            why = "I may not post in this channel" if kind == "forbidden" else "Discord refused the message"
            await self._followup(interaction, Reply((f"Could not post: {why}.",)))
            deps.record(event, decision, posted=False, reason=f"send failed ({kind}): {decision.reason}")
            return
        await self._followup(interaction, Reply((f"Posted **{decision.entry.title}**.",)))
        deps.record(event, decision, posted=True)
        if deps.store.claim_state(PLATFORM, f"msg:{message.id}") != "posted":
            # A moderator answered a post the bot stayed silent on: a positive label.
            labels.record(
                deps.store,
                platform=PLATFORM,
                item_id=str(message.id),
                where=str(message.channel.id),
                text=message.content,
                decision="called",
                decided_by=str(interaction.user.id),
                entry=decision.entry.id,
                author_id=str(message.author.id),
                url=message.jump_url,
            )

    async def analyze_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Verdict on the message's text and attachments, ephemeral."""
        if not self._claim(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._analyze(interaction, message.content, list(message.attachments))

    # -- responding ----------------------------------------------------------------------------

    async def _respond(self, interaction: discord.Interaction, reply: Reply, *, ephemeral: bool) -> None:
        """The one response, plus follow-ups for the rest of a long answer."""
        chunks = list(reply.chunks) or [""]
        first_embed = reply.embed if len(chunks) == 1 else None
        await interaction.response.send_message(
            chunks[0] or None,
            embed=first_embed or discord.utils.MISSING,
            ephemeral=ephemeral,
            allowed_mentions=NO_PINGS,
        )
        for i, chunk in enumerate(chunks[1:], start=1):
            embed = reply.embed if i == len(chunks) - 1 else None
            await interaction.followup.send(
                chunk, embed=embed or discord.utils.MISSING, ephemeral=ephemeral, allowed_mentions=NO_PINGS
            )

    async def _followup(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Finish a deferred interaction: the answer replaces the "thinking…" message, the rest
        of a long answer follows as ephemeral follow-ups.

        (A first follow-up would also replace the loading message, but Discord has deprecated
        that; editing `@original` is the supported way.)
        """
        chunks = list(reply.chunks) or [""]
        first_embed = reply.embed if len(chunks) == 1 else None
        await interaction.edit_original_response(
            content=chunks[0] or None,
            embed=first_embed,
            allowed_mentions=NO_PINGS,
        )
        for i, chunk in enumerate(chunks[1:], start=1):
            embed = reply.embed if i == len(chunks) - 1 else None
            await interaction.followup.send(
                chunk or discord.utils.MISSING,
                embed=embed or discord.utils.MISSING,
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
