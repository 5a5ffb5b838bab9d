"""Direct messages: a pasted or attached dump gets a verdict, a question an answer, anything else help.

`stop` / `start` (also `opt out` / `opt in`) turn automatic replies to the sender off
and on. Dumps are read in memory and never stored: the audit log keeps the decision only.
"""

from __future__ import annotations

import dataclasses
import logging

import discord
from discord.ext import commands

from bot.core.models import EventKind
from bot.discord import convert
from bot.discord.context import PLATFORM, Deps, platform_error, send_reply
from bot.discord.render import Reply, build_reply

log = logging.getLogger(__name__)

OPT_OUT_WORDS = frozenset({"stop", "opt out", "optout", "opt-out"})
OPT_IN_WORDS = frozenset({"start", "opt in", "optin", "opt-in"})
OPTED_OUT_TEXT = "Done: I won't auto-reply to your messages in channels any more. DM me `start` to undo."
OPTED_IN_TEXT = "Done: I may auto-reply to your questions in watched channels again. DM me `stop` to undo."


class DirectMessagesCog(commands.Cog, name="DirectMessages"):
    """Answers DMs: verdicts for dumps, answers for questions, opt-out keywords."""

    def __init__(self, bot: commands.Bot, deps: Deps) -> None:
        self.bot = bot
        self.deps = deps

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Handle one DM (ignores guild messages, bots and itself)."""
        if message.guild is not None or message.author.bot:
            return
        me = self.bot.user
        if me is not None and message.author.id == me.id:
            return
        if not isinstance(message.channel, discord.DMChannel | discord.PartialMessageable):
            return
        key = f"msg:{message.id}"
        # `where` is the DM channel id, so start-up recovery can look for the reply there.
        if not self.deps.store.claim(PLATFORM, key, where=str(message.channel.id)):
            return  # a replayed event: answered already
        await self.answer(message, key)

    async def answer(self, message: discord.Message, key: str) -> None:
        """Answer a DM whose id is claimed as `key` (live, or a claim recovered at start-up)."""
        deps = self.deps
        me = self.bot.user
        word = " ".join(message.content.lower().split()).strip(".! ")
        if not message.attachments and word in OPT_OUT_WORDS | OPT_IN_WORDS:
            opted_out = word in OPT_OUT_WORDS
            deps.store.set_opt_out(PLATFORM, str(message.author.id), opted_out)
            await self._send(message, Reply((OPTED_OUT_TEXT if opted_out else OPTED_IN_TEXT,)), key)
            return
        limit = deps.cfg.max_attachment_bytes
        if (
            message.attachments
            and not message.content.strip()
            and all(convert.is_oversized_text(a, limit) for a in message.attachments)
        ):
            # Only files too big to read (never downloaded): the answer is how to trim them, one line each.
            lines = [convert.attachment_refusal(a, limit) or "" for a in message.attachments]
            if not deps.shadow:
                await self._send(message, Reply(("\n".join(lines),)), key)
            else:
                deps.store.release(PLATFORM, key)
            log.info("discord: DM %s had only oversized attachments", message.id)
            return
        read = await convert.read_attachments(message.attachments, limit)
        event = convert.message_event(
            message,
            kind=EventKind.PRIVATE,
            cfg=deps.cfg,
            self_id=me.id if me else None,
            attachments=read.accepted,
        )
        event = dataclasses.replace(event, where="dm", url=None)
        decision = await deps.engine.decide_async(event)
        reply = build_reply(decision, auto=False)
        if read.problems:
            problems = "\n".join(f"- {p}" for p in read.problems)
            reply = Reply((f"I could not read every attachment:\n{problems}", *reply.chunks), reply.embed)
        if deps.shadow:
            deps.store.release(PLATFORM, key)  # nothing sent: no claim left "maybe posted"
            deps.record(event, decision, posted=False, reason=f"shadow: {decision.reason}")
            return
        posted = await self._send(message, reply, key)
        deps.record(event, decision, posted=posted)

    async def _send(self, message: discord.Message, reply: Reply, key: str) -> bool:
        try:
            sent = await send_reply(message.channel, reply)
        except discord.Forbidden as exc:  # DMs closed or the user blocked the bot
            platform_error(exc)
            self.deps.store.release(PLATFORM, key)  # nothing was sent
            log.info("discord: cannot DM user %s (DMs closed)", message.author.id)
            return False
        except discord.HTTPException as exc:
            platform_error(exc)
            self.deps.store.release(PLATFORM, key)
            log.warning("discord: DM reply failed: %s", exc.status)
            return False
        self.deps.store.mark_posted(PLATFORM, key, str(sent[0].id))
        self.deps.health.ok(PLATFORM)
        return True
