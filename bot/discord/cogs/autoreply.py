"""Auto-replies in watched channels and forum channels, and 🗑 removal of them.

A new message in a watched text channel, or the starter message of a new post in a
watched forum (the message whose id equals the thread id; the thread is created just
before it, so replying on THREAD_CREATE would race the author's text), gets at most one
reply. The message id is claimed in the Store before the first await, so a replayed
gateway event or a second task never double-replies.

Every on-topic question gets exactly one reply: when the bot answered the same entry in
that channel less than `cooldown_seconds` ago, the reply is one short line linking that
answer instead of repeating it; a different entry is answered in full. Flood protection
is per asker (`asker_max_replies` per `asker_window_seconds`), never per channel.
"""

from __future__ import annotations

import dataclasses
import logging

import discord
from discord.ext import commands

from bot import labels
from bot.core.models import Decision, Event, EventKind
from bot.discord import convert
from bot.discord.context import (
    PLATFORM,
    REPLY_ASKER_KEY,
    AskerLimit,
    Deps,
    RecentAnswers,
    platform_error,
    send_reply,
)
from bot.discord.render import Reply, build_reply

log = logging.getLogger(__name__)

REMOVE_EMOJI = frozenset({"🗑", "🗑️"})
HISTORY_LOOKAHEAD = 20  # messages after the question checked for a human answer
JUST_ABOVE = "Same question as just above — my automated answer is here: {url}"


def _cooldown_slot(message: discord.Message, watched: int) -> int:
    """Where "the answer just above" is looked for: the text channel, each forum post (thread) on its own."""
    return message.channel.id if isinstance(message.channel, discord.Thread) else watched


class AutoReplyCog(commands.Cog, name="AutoReply"):
    """Answers on-topic questions in watched channels; lets the asker or a moderator remove the answer."""

    def __init__(
        self,
        bot: commands.Bot,
        deps: Deps,
        flood: AskerLimit | None = None,
        recent: RecentAnswers | None = None,
    ) -> None:
        self.bot = bot
        self.deps = deps
        self.flood = flood or AskerLimit(deps.cfg.asker_max_replies, deps.cfg.asker_window_seconds)
        self.recent = recent or RecentAnswers(deps.cfg.cooldown_seconds)
        self.watched = frozenset(deps.cfg.watch_channels)

    async def watched_channel(self, message: discord.Message) -> int | None:
        """The watched channel (text channel, or the forum of a starter message) this message is in."""
        channel = message.channel
        if channel.id in self.watched and not isinstance(
            channel, discord.Thread | discord.PartialMessageable
        ):
            return channel.id
        if isinstance(channel, discord.Thread):
            if channel.parent_id in self.watched and message.id == channel.id:
                return channel.parent_id
            return None
        if isinstance(channel, discord.PartialMessageable) and message.id == channel.id:
            # A starter message whose THREAD_CREATE we missed: look the thread up once.
            try:
                fetched = await self.bot.fetch_channel(channel.id)
            except discord.HTTPException as exc:
                platform_error(exc)
                return None
            if isinstance(fetched, discord.Thread) and fetched.parent_id in self.watched:
                return fetched.parent_id
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Decide about a guild message; reply once when it is an on-topic question in a watched channel."""
        if message.guild is None or message.author.bot:
            return
        me = self.bot.user
        if me is not None and message.author.id == me.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        watched = await self.watched_channel(message)
        if watched is None or self.deps.store.is_opted_out(PLATFORM, str(message.author.id)):
            return
        await self.handle(message, watched)

    def _decide(
        self, message: discord.Message, watched: int
    ) -> tuple[Event, Decision, list[discord.Attachment]]:
        deps = self.deps
        event = convert.message_event(
            message,
            kind=EventKind.NEW_TOPIC,
            cfg=deps.cfg,
            self_id=self.bot.user.id if self.bot.user else None,
            category=watched,
        )
        readable = [
            a
            for a in message.attachments
            if convert.attachment_refusal(a, deps.cfg.max_attachment_bytes) is None
        ]
        return event, deps.engine.decide(event), readable

    async def handle(self, message: discord.Message, watched: int) -> None:
        """The decision, the claim and the reply for one message in a watched channel."""
        deps = self.deps
        event, decision, readable = self._decide(message, watched)
        if not decision.posts and not readable:
            if decision.match is not None and decision.match.candidate:
                deps.record(event, decision, posted=False)  # near misses help tune the threshold
                await self._triage(message, event, decision)
            return
        if not self.flood.allows(message.author.id):
            log.info("discord: flood protection, not replying to %s", message.id)
            deps.record(
                event,
                decision,
                posted=False,
                reason=(
                    f"flood: asker had {self.flood.max_replies} auto-replies in "
                    f"{self.flood.window:g} s: {decision.reason}"
                ),
            )
            return
        key = f"msg:{message.id}"
        # Claim before the first await: a replayed event or a concurrent task gets False here.
        if not deps.store.claim(PLATFORM, key, where=str(message.channel.id)):
            log.info("discord: message %s already claimed, not replying again", message.id)
            return
        await self._claimed(message, watched, event, decision, readable, key)

    async def resume(self, message: discord.Message, key: str) -> None:
        """Finish a claim an earlier process left pending and unanswered, without claiming again.

        Same decision and reply path as a live message (a helper's answer in the meantime
        still silences the bot); the claim ends posted or released.
        """
        watched = await self.watched_channel(message)
        if watched is None or self.deps.store.is_opted_out(PLATFORM, str(message.author.id)):
            log.info(
                "discord: pending message %s no longer needs a reply (unwatched or opted out)", message.id
            )
            self.deps.store.release(PLATFORM, key)
            return
        event, decision, readable = self._decide(message, watched)
        await self._claimed(message, watched, event, decision, readable, key)

    async def _claimed(
        self,
        message: discord.Message,
        watched: int,
        event: Event,
        decision: Decision,
        readable: list[discord.Attachment],
        key: str,
    ) -> None:
        # Counted before the first await, so a burst of concurrent messages cannot overrun it.
        stamp = self.flood.take(message.author.id)
        try:
            sent = await self._after_claim(message, watched, event, decision, readable, key)
        except Exception:
            # Unexpected failure before anything was sent: free the claim so a retry may answer.
            if self.deps.store.claim_state(PLATFORM, key) == "claimed":
                self.deps.store.release(PLATFORM, key)
            self.flood.give_back(message.author.id, stamp)
            raise
        if not sent:
            self.flood.give_back(message.author.id, stamp)

    async def _after_claim(
        self,
        message: discord.Message,
        watched: int,
        event: Event,
        decision: Decision,
        readable: list[discord.Attachment],
        key: str,
    ) -> bool:
        """Decide again with attachments and helpers' answers, then send; whether a reply went out."""
        deps = self.deps
        if readable:
            read = await convert.read_attachments(readable, deps.cfg.max_attachment_bytes)
            event = dataclasses.replace(event, attachments=read.accepted)
            decision = await deps.engine.decide_async(event)
        if decision.posts and await self.human_answered(message):
            event = dataclasses.replace(event, answered_by_human=True)
            decision = await deps.engine.decide_async(event)
        # Nothing will be sent: drop the claim, so a claim left "claimed" after a crash
        # always means "maybe sent" and start-up recovery has only those to look at.
        if not decision.posts:
            deps.store.release(PLATFORM, key)
            deps.record(event, decision, posted=False)
            await self._triage(message, event, decision)
            return False
        if deps.shadow:
            deps.store.release(PLATFORM, key)
            deps.record(event, decision, posted=False, reason=f"shadow: {decision.reason}")
            return True  # counts like a reply, so shadow mode shows what flood protection would do
        slot = _cooldown_slot(message, watched)
        entry_id = decision.entry.id if decision.entry is not None else None
        # A verdict is about this asker's own machine: never replaced by a link.
        above = self.recent.same(slot, entry_id) if entry_id and decision.verdict is None else None
        reply = Reply((JUST_ABOVE.format(url=above.jump_url),)) if above else build_reply(decision, auto=True)
        try:
            sent = await send_reply(message.channel, reply, reference=message)
        except discord.HTTPException as exc:
            kind = platform_error(exc)
            log.warning("discord: reply to %s in %s failed (%s)", message.id, message.channel.id, kind)
            deps.store.release(PLATFORM, key)
            deps.record(event, decision, posted=False, reason=f"send failed ({kind}): {decision.reason}")
            return False
        deps.store.mark_posted(PLATFORM, key, str(sent[0].id))
        for msg in sent:
            deps.store.kv_set(REPLY_ASKER_KEY.format(message_id=msg.id), str(message.author.id))
        if above is None and entry_id is not None:
            self.recent.remember(slot, entry_id, sent[0].jump_url)
        await self._triage(message, event, decision, auto=True)
        deps.health.ok(PLATFORM)
        deps.record(
            event,
            decision,
            posted=True,
            reason=f"same entry just above: {decision.reason}" if above else None,
        )
        log.info(
            "discord: replied to %s in %s",
            message.id,
            message.channel.id,
            extra={
                "fields": {
                    "action": decision.action.value,
                    "entry": decision.entry.id if decision.entry else None,
                    "jump_link": above is not None,
                }
            },
        )
        return True

    async def _triage(self, message: discord.Message, event: Event, decision: Decision, *, auto: bool = False) -> None:
        """Show the post to the moderators when the triage cog wants it (bot/discord/triage.py)."""
        cog = self.bot.get_cog("Triage")
        offer = getattr(cog, "offer", None)
        if offer is None:
            return
        try:
            await offer(message, event, decision, auto=auto)
        except Exception:  # triage must never cost the asker their reply
            log.exception("discord: triage of %s failed", message.id)

    async def human_answered(self, message: discord.Message) -> bool:
        """Whether a moderator/helper spoke after the question, or anyone replied to it directly."""
        try:
            async for later in message.channel.history(limit=HISTORY_LOOKAHEAD, after=message):
                if later.author.bot or later.author.id == message.author.id:
                    continue
                ref = later.reference
                if (ref is not None and ref.message_id == message.id) or convert.is_staff(
                    later.author, self.deps.cfg
                ):
                    return True
        except discord.HTTPException as exc:  # no Read Message History: assume nobody answered
            platform_error(exc)
        return False

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """🗑 on an auto-reply by its asker or a moderator deletes the reply."""
        if payload.emoji.name not in REMOVE_EMOJI or payload.guild_id is None:
            return
        me = self.bot.user
        if me is not None and payload.user_id == me.id:
            return
        key = REPLY_ASKER_KEY.format(message_id=payload.message_id)
        asker = self.deps.store.kv_get(key)
        if not asker:
            return  # not one of our auto-replies (or already removed)
        if str(payload.user_id) != asker and not convert.is_moderator(payload.member, self.deps.cfg):
            return
        original = await self._answered_message(payload)
        target = self.bot.get_partial_messageable(payload.channel_id).get_partial_message(payload.message_id)
        try:
            await target.delete()
        except discord.NotFound:
            pass  # already gone
        except discord.HTTPException as exc:
            platform_error(exc)
            log.warning("discord: could not delete reply %s: %s", payload.message_id, exc.status)
            return
        self.deps.store.kv_set(key, "")  # forget who asked: the reply is gone
        log.info("discord: removed reply %s on request of %s", payload.message_id, payload.user_id)
        if original is not None:  # a removed auto-reply is a negative label (bot/labels.py)
            labels.record(
                self.deps.store,
                platform=PLATFORM,
                item_id=str(original.id),
                where=str(original.channel.id),
                text=original.content,
                decision="removed",
                decided_by=str(payload.user_id),
                author_id=asker,
                url=original.jump_url,
            )

    async def _answered_message(self, payload: discord.RawReactionActionEvent) -> discord.Message | None:
        """The message an auto-reply answered (the reply's reference), read before the reply goes."""
        try:
            channel = self.bot.get_channel(payload.channel_id) or await self.bot.fetch_channel(payload.channel_id)
            reply = await channel.fetch_message(payload.message_id)  # type: ignore[union-attr]
            ref = reply.reference
            if ref is None or ref.message_id is None:
                return None
            return await channel.fetch_message(ref.message_id)  # type: ignore[union-attr]
        except discord.HTTPException as exc:
            platform_error(exc)
        except Exception:  # the label is a by-product: never let it stop the removal
            log.debug("discord: cannot read the message reply %s answered", payload.message_id, exc_info=True)
        return None
