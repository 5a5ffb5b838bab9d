"""Start-up recovery of claims an earlier process left "claimed": answer what was lost, never twice.

A message is claimed (`msg:<id>`) before the reply is sent and marked posted after. If the
process dies in between, the claim stays "claimed": the reply may be on Discord (sent,
not recorded) or not (never sent). Discord does not replay old messages after a restart,
so without this the question would be silently lost.

On the first READY of a process, for each such claim of the last `RECOVERY_WINDOW_SECONDS`,
made before this process started (live claims of this process are still in flight):

1. look just after the message in its channel (`HISTORY_AFTER_LIMIT` messages) for the
   bot's reply — a message replying to it, or in a forum thread or DM the first bot
   message after it; found -> `mark_posted`, nothing sent;
2. otherwise fetch the message and run the cog's normal decision and reply path without
   claiming again (the claim is already ours);
3. the message deleted (NotFound) or the channel out of reach (Forbidden) -> `release`,
   one log line. Other errors (5xx, network) leave the claim for the next start.

Interaction claims (`interaction:<id>`) are not recoverable: interactions expire after
15 minutes. Claims are handled one at a time, `spacing` seconds apart, to stay well
under Discord's rate limits (discord.py also waits out any 429).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord
from discord.ext import commands

from bot.discord.cogs.autoreply import AutoReplyCog
from bot.discord.cogs.direct import DirectMessagesCog
from bot.discord.context import PLATFORM, Deps, platform_error
from bot.state import PendingClaim

log = logging.getLogger(__name__)

RECOVERY_WINDOW_SECONDS = 24 * 3600  # older questions are stale: a reply a day later helps nobody
HISTORY_AFTER_LIMIT = 50  # messages after the question searched for the bot's reply
DEFAULT_SPACING_SECONDS = 1.0  # pause between two recovered claims (rate limits)

FOUND = "found"  # the reply was there: marked posted
RESUMED = "resumed"  # ran the normal path (replied, or decided not to)
RELEASED = "released"  # message gone or channel out of reach
LEFT = "left"  # not recoverable now (interaction, unknown channel, transient error)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """How many pending claims ended which way."""

    found: int = 0
    resumed: int = 0
    released: int = 0
    left: int = 0


class ClaimRecovery:
    """Settles the Discord claims an earlier process left pending (see the module docstring)."""

    def __init__(
        self,
        bot: commands.Bot,
        deps: Deps,
        autoreply: AutoReplyCog,
        direct: DirectMessagesCog,
        *,
        started_at: float,
        spacing: float = DEFAULT_SPACING_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.deps = deps
        self.autoreply = autoreply
        self.direct = direct
        self.started_at = started_at
        self.spacing = spacing
        self._clock = clock
        self._sleep = sleep

    def pending(self) -> list[PendingClaim]:
        """Claims of the recovery window made before this process started."""
        since = self._clock() - RECOVERY_WINDOW_SECONDS
        return [
            c for c in self.deps.store.pending_claims(PLATFORM, since=since) if c.claimed_at < self.started_at
        ]

    async def run(self) -> RecoveryReport:
        """Recover every pending claim, sequentially; never raises (errors are logged)."""
        claims = self.pending()
        interactions = [c for c in claims if c.key.startswith("interaction:")]
        if interactions:
            log.info(
                "discord: %d interaction claim(s) left as they are: interactions expire after 15 minutes",
                len(interactions),
            )
        messages = [c for c in claims if c.key.startswith("msg:")]
        counts = {FOUND: 0, RESUMED: 0, RELEASED: 0, LEFT: len(claims) - len(messages)}
        for i, claim in enumerate(messages):
            if i and self.spacing > 0:
                await self._sleep(self.spacing)
            try:
                outcome = await self.recover(claim)
            except Exception:
                log.exception("discord: recovering claim %s failed; left for the next start", claim.key)
                outcome = LEFT
            counts[outcome] += 1
        report = RecoveryReport(
            found=counts[FOUND], resumed=counts[RESUMED], released=counts[RELEASED], left=counts[LEFT]
        )
        if claims:
            log.info(
                "discord: start-up recovery: %d reply(ies) found, %d answered now, %d released, %d left",
                report.found,
                report.resumed,
                report.released,
                report.left,
            )
        return report

    async def recover(self, claim: PendingClaim) -> str:
        """Settle one `msg:<id>` claim; returns FOUND, RESUMED, RELEASED or LEFT."""
        store = self.deps.store
        if self.bot.user is None:  # cannot tell our replies apart: answering could double-reply
            return LEFT
        try:
            message_id = int(claim.key.removeprefix("msg:"))
            channel_id = int(claim.where)
        except ValueError:
            # e.g. DM claims of older versions, recorded without the channel id: cannot look.
            log.info("discord: pending claim %s (where %r) cannot be located; left", claim.key, claim.where)
            return LEFT
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise TypeError(f"channel {channel_id} holds no messages")
            reply = await self.find_reply(channel, message_id)
            if reply is not None:
                store.mark_posted(PLATFORM, claim.key, str(reply.id), where=claim.where)
                log.info("discord: found my reply %s to message %s; not posting again", reply.id, message_id)
                return FOUND
            message = await channel.fetch_message(message_id)
        except (discord.NotFound, discord.Forbidden, TypeError) as exc:
            if isinstance(exc, discord.HTTPException):
                platform_error(exc)
            store.release(PLATFORM, claim.key)
            log.info(
                "discord: pending message %s in %s is gone or out of reach (%s); claim released",
                message_id,
                channel_id,
                type(exc).__name__,
            )
            return RELEASED
        except discord.HTTPException as exc:
            platform_error(exc)
            log.warning(
                "discord: cannot check pending message %s now (%s); left for the next start",
                message_id,
                exc.status,
            )
            return LEFT
        log.info("discord: message %s was claimed but never answered; answering now", message_id)
        if message.guild is None:
            await self.direct.answer(message, claim.key)
        else:
            await self.autoreply.resume(message, claim.key)
        return RESUMED

    async def find_reply(self, channel: discord.abc.Messageable, message_id: int) -> discord.Message | None:
        """The bot's reply to the message among the messages just after it, if any.

        A reply references the message; in a forum thread or a DM (one conversation per
        channel) the first bot message after it counts too.
        """
        me = self.bot.user
        assert me is not None  # checked by recover()
        one_conversation = isinstance(channel, discord.Thread | discord.DMChannel)
        async for later in channel.history(
            limit=HISTORY_AFTER_LIMIT, after=discord.Object(id=message_id), oldest_first=True
        ):
            if later.author.id != me.id:
                continue
            ref = later.reference
            if (ref is not None and ref.message_id == message_id) or one_conversation:
                return later
        return None
