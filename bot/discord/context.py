"""What every cog needs: config, engine, store, health; recording decisions and sending replies."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from bot import audit
from bot.config import DiscordConfig
from bot.core.engine import Engine
from bot.core.models import Decision, Event
from bot.discord.render import Reply
from bot.ops import metrics
from bot.ops.health import Health
from bot.state import Store

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Store keys: the asker of each auto-reply, so the asker may remove it with 🗑.
REPLY_ASKER_KEY = "discord:reply-asker:{message_id}"
NO_PINGS = discord.AllowedMentions.none()


@dataclass(frozen=True, slots=True)
class Deps:
    """The adapter's collaborators, handed to every cog."""

    cfg: DiscordConfig
    engine: Engine
    store: Store
    health: Health
    shadow: bool = False

    @property
    def mode(self) -> str:
        return "shadow" if self.shadow else "live"

    def record(self, event: Event, decision: Decision, *, posted: bool, reason: str | None = None) -> None:
        """Audit log, log line and metrics for one decision (identifiers and reasons only, never text)."""
        audit.record(self.store, event, decision, shadow=self.shadow, posted=posted, reason=reason)


def platform_error(exc: BaseException) -> str:
    """Count a Discord API error by kind; return the kind."""
    if isinstance(exc, discord.Forbidden):
        kind = "forbidden"
    elif isinstance(exc, discord.NotFound):
        kind = "not_found"
    elif isinstance(exc, discord.HTTPException) and exc.status == 429:
        kind = "rate_limited"
    elif isinstance(exc, discord.HTTPException) and exc.status >= 500:
        kind = "http_5xx"
    elif isinstance(exc, discord.HTTPException):
        kind = "http_4xx"
    else:
        kind = "other"
    metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind=kind).inc()
    return kind


async def send_reply(
    channel: discord.abc.Messageable, reply: Reply, *, reference: discord.Message | None = None
) -> list[discord.Message]:
    """Send a reply as one or more messages; the first answers `reference` without pinging its author."""
    sent: list[discord.Message] = []
    chunks = list(reply.chunks) or [""]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        kwargs: dict[str, object] = {"allowed_mentions": NO_PINGS}
        if last and reply.embed is not None:
            kwargs["embed"] = reply.embed
        if i == 0 and reference is not None:
            kwargs["reference"] = reference.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
        try:
            sent.append(await channel.send(chunk or None, **kwargs))  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            if not sent:
                raise
            # Part of the answer is out: report it as posted so nobody re-sends the first part.
            platform_error(exc)
            log.warning("discord: reply cut after %d of %d messages (%s)", len(sent), len(chunks), exc.status)
            break
    return sent


class AskerLimit:
    """Flood protection per asker: at most `max_replies` auto-replies per `window` seconds (in memory).

    `take()` before replying, `give_back()` when nothing was sent, so a failed send never
    counts against the asker. `max_replies` 0 means no limit.
    """

    def __init__(self, max_replies: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_replies = max_replies
        self.window = window
        self._clock = clock
        self._times: dict[int, list[float]] = {}

    def _recent(self, asker: int) -> list[float]:
        now = self._clock()
        times = [t for t in self._times.get(asker, []) if now - t < self.window]
        self._times[asker] = times
        return times

    def allows(self, asker: int) -> bool:
        """Whether one more auto-reply to `asker` stays within the limit."""
        return self.max_replies <= 0 or len(self._recent(asker)) < self.max_replies

    def take(self, asker: int) -> float:
        """Count one reply to `asker` now; returns the stamp for `give_back`."""
        stamp = self._clock()
        self._recent(asker).append(stamp)
        return stamp

    def give_back(self, asker: int, stamp: float) -> None:
        """Undo a `take` whose reply was not sent."""
        times = self._times.get(asker, [])
        if stamp in times:
            times.remove(stamp)


@dataclass(frozen=True, slots=True)
class PostedAnswer:
    """A full auto-answer: which entry, where to jump to it, when (monotonic)."""

    entry_id: str
    jump_url: str
    at: float


class RecentAnswers:
    """The last full auto-answer per channel slot, so the same entry within `seconds` is a jump link."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, PostedAnswer] = {}

    def same(self, slot: int, entry_id: str) -> PostedAnswer | None:
        """The answer just posted in `slot`, when it was the same entry and is recent enough."""
        last = self._last.get(slot)
        if last is None or last.entry_id != entry_id or self._clock() - last.at >= self.seconds:
            return None
        return last

    def remember(self, slot: int, entry_id: str, jump_url: str) -> None:
        self._last[slot] = PostedAnswer(entry_id, jump_url, self._clock())
