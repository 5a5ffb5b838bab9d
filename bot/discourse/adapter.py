"""The Discourse adapter: watch the forum, ask the engine, reply at most once per post.

Feeds: `GET /posts.json` (public) and `GET /private-posts.json` (PMs the bot is in),
each with its own cursor (the last fully handled post id), paged with `before`. Signed
`post_created` webhooks are handled at once; polling stays on as the safety net.

Crash safety, per post that needs a reply (see docs/discourse.md):

1. `Store.claim("discourse", "post:<id>")` commits before anything is sent;
2. if the claim already existed and is not "posted", a previous run may have posted
   and died before recording it: look in the topic for the bot's own reply to that
   post, and if it is there record it instead of posting again;
3. post, then `mark_posted`;
4. advance the cursor only past posts fully handled, in id order, so a crash or an
   outage never skips one.

Everything goes through one asyncio lock, so the webhook and the poller never race.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import audit
from bot.config import DiscourseConfig
from bot.core.engine import Engine
from bot.core.models import Decision, Event
from bot.discourse.client import (
    ForumAuthError,
    ForumClient,
    ForumError,
    ForumNotDiscourse,
    ForumRejected,
    ForumUnavailable,
)
from bot.discourse.convert import PLATFORM, author_of, is_private, to_event
from bot.ops import metrics
from bot.ops.health import Health
from bot.render import render_answer_md
from bot.state import Store

log = logging.getLogger(__name__)

FEEDS = ("posts", "private_posts")
WEBHOOK_PATH = "/webhooks/discourse"
MAX_BACKOFF = 120.0
_SEEN_MAX = 5000


class StartupError(RuntimeError):
    """The adapter cannot start (wrong key, wrong URL, forum unreachable). One line."""


@dataclass(frozen=True, slots=True)
class Handled:
    """What happened to one post (for the demo, tests and logs)."""

    post_id: int
    topic_id: int
    action: str
    reason: str
    entry: str | None
    score: float | None
    posted: bool
    reply_id: int | None = None


def _cursor_name(feed: str) -> str:
    return f"discourse:{feed}"


class DiscourseAdapter:
    """One forum, one bot account. `start()` checks credentials; `run()` polls until stopped."""

    def __init__(
        self,
        cfg: DiscourseConfig,
        engine: Engine,
        store: Store,
        health: Health,
        *,
        shadow: bool = False,
        client: ForumClient | None = None,
        on_handled: Callable[[Handled], Awaitable[None] | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.store = store
        self.health = health
        self.shadow = shadow
        self.client = client or ForumClient(
            cfg.url, cfg.api_username, cfg.api_key, timeout=cfg.request_timeout
        )
        self.me = cfg.api_username
        self.on_handled = on_handled
        self._lock = asyncio.Lock()
        self._seen: OrderedDict[int, None] = OrderedDict()  # post ids fully handled in this run
        self._floor: dict[str, int] = {}
        self._wake = asyncio.Event()
        health.register(PLATFORM)

    # -- start-up -------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the key and URL, learn who we are, and set the cursors on a first start."""
        try:
            user = await self.client.current_user()
        except ForumAuthError as exc:
            raise StartupError(
                f"discourse: the forum at {self.cfg.url} refused the API key or username "
                f"{self.cfg.api_username!r} ({exc}); check FARMHAND_DISCOURSE_API_KEY, "
                "discourse.url and discourse.api_username"
            ) from None
        except (ForumRejected, ForumNotDiscourse) as exc:
            raise StartupError(
                f"discourse: {self.cfg.url} does not look like a Discourse forum ({exc}); check discourse.url"
            ) from None
        except ForumError as exc:
            raise StartupError(f"discourse: cannot reach the forum at {self.cfg.url} ({exc})") from None
        self.me = str(user.get("username") or self.cfg.api_username)
        if not (user.get("moderator") or user.get("admin")):
            log.warning(
                "the forum account %s is not a moderator: Discourse's new-user and duplicate-post "
                "limits will apply to its replies",
                self.me,
            )
        for feed in FEEDS:
            saved = self.store.get_cursor(_cursor_name(feed))
            if saved is None:
                # First start: everything already on the forum is history, not questions for us.
                page = await self._page(feed, None)
                top = max((int(p["id"]) for p in page), default=0)
                self.store.set_cursor(_cursor_name(feed), str(top))
                log.info("first start on %s: ignoring %s up to post %d", self.cfg.url, feed, top)
                saved = str(top)
            self._floor[feed] = int(saved)
        self.health.ok(PLATFORM)

    async def _page(self, feed: str, before: int | None) -> list[dict[str, Any]]:
        if feed == "posts":
            return await self.client.latest_posts(before)
        return await self.client.private_posts(before)

    # -- polling --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `poll_seconds` until `stop` is set; back off on errors. The error boundary."""
        failures = 0
        while not stop.is_set():
            try:
                complete = await self.poll_once()
                self.health.ok(PLATFORM)
                failures = 0 if complete else failures + 1
            except ForumError as exc:
                failures += 1
                kind = "network" if isinstance(exc, ForumUnavailable) else type(exc).__name__.lower()
                metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind=kind).inc()
                self.health.error(PLATFORM, str(exc), disconnected=isinstance(exc, ForumUnavailable), kind=kind)
                log.warning("forum poll failed (%s); retrying", exc)
            except Exception as exc:  # a bug must not kill the poller; it is logged with context
                failures += 1
                self.health.error(PLATFORM, f"internal error: {type(exc).__name__}")
                log.exception("forum poll crashed; retrying")
            delay = self.cfg.poll_seconds
            if failures:
                # Exponential backoff with full jitter, so many bots don't hammer a recovering forum.
                delay = min(MAX_BACKOFF, self.cfg.poll_seconds * 2 ** min(failures, 8))
                delay = random.uniform(delay / 2, delay)
            await self._sleep(delay, stop)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        stop_wait = asyncio.ensure_future(stop.wait())
        wake_wait = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop_wait, wake_wait}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_wait.cancel()
            wake_wait.cancel()
            self._wake.clear()

    def wake(self) -> None:
        """Poll now instead of at the next tick (after a webhook the poller should confirm)."""
        self._wake.set()

    async def _fetch_new(self, feed: str, cursor: int) -> list[dict[str, Any]]:
        """All posts of a feed with id > cursor, paging back with `before` until the cursor."""
        out: dict[int, dict[str, Any]] = {}
        before: int | None = None
        pages = 0
        while True:
            page = await self._page(feed, before)
            pages += 1
            if not page:
                break
            ids = [int(p["id"]) for p in page]
            out.update({int(p["id"]): p for p in page if int(p["id"]) > cursor})
            lowest = min(ids)
            if lowest <= cursor + 1 or (before is not None and lowest >= before):
                break
            before = lowest
            if pages % 10 == 0:
                log.info("catching up on %s: %d pages, %d new posts so far", feed, pages, len(out))
        return [out[i] for i in sorted(out)]

    async def poll_once(self) -> bool:
        """Fetch and handle every new post once; False when one must be retried later."""
        batch: list[tuple[int, str, dict[str, Any]]] = []
        for feed in FEEDS:
            cursor = int(self.store.get_cursor(_cursor_name(feed)) or 0)
            batch += [(int(p["id"]), feed, p) for p in await self._fetch_new(feed, cursor)]
        batch.sort(key=lambda item: item[0])
        human_answered = self._human_answered_topics([p for _, _, p in batch])
        for post_id, feed, post in batch:
            done = await self.handle_post(
                post,
                private=feed == "private_posts",
                answered_by_human=int(post.get("topic_id") or 0) in human_answered,
            )
            if not done:
                return False  # stop here: the cursor must not pass an unhandled post
            self.store.set_cursor(_cursor_name(feed), str(post_id))
        return True

    def _human_answered_topics(self, posts: list[dict[str, Any]]) -> set[int]:
        """Topics where a staff member (not the bot) replied, as far as this batch shows."""
        out = set()
        for p in posts:
            author = author_of(p, self.me)
            if (
                int(p.get("post_number") or 0) > 1
                and author.is_staff
                and not author.is_self
                and not author.is_bot
            ):
                out.add(int(p.get("topic_id") or 0))
        return out

    # -- one post -------------------------------------------------------------------------

    async def handle_post(
        self,
        post: dict[str, Any],
        *,
        private: bool = False,
        answered_by_human: bool = False,
        source: str = "poll",
    ) -> bool:
        """Decide about one post and reply if needed; True when it is fully handled."""
        async with self._lock:
            return await self._handle(
                post, private=private, answered_by_human=answered_by_human, source=source
            )

    async def _handle(
        self, post: dict[str, Any], *, private: bool, answered_by_human: bool, source: str
    ) -> bool:
        post_id = int(post["id"])
        if post_id in self._seen:
            return True
        topic_id = int(post.get("topic_id") or 0)
        private = is_private(post, from_private_feed=private)
        author = author_of(post, self.me)
        if author.is_self or author.is_bot:
            self._remember(post_id)  # never itself or other bots; not even an audit line
            return True
        event = to_event(
            post,
            me=self.me,
            base_url=self.cfg.url,
            categories=self.cfg.categories,
            private=private,
            bot_answered_topic=self.store.answered_in(PLATFORM, str(topic_id)),
            answered_by_human=answered_by_human,
        )
        if event is None:
            self._remember(post_id)
            return True
        key = f"post:{post_id}"
        if self.store.claim_state(PLATFORM, key) == "posted":
            self._remember(post_id)
            return True
        decision = await self.engine.decide_async(event)
        if not decision.posts or self.shadow:
            self._record(event, decision, posted=False)
            await self._report(event, decision, posted=False, reply_id=None, source=source)
            self._remember(post_id)
            return True

        if not self.store.claim(PLATFORM, key, where=str(topic_id)):
            # Claimed by an earlier run that may have posted and died before recording it.
            try:
                existing = await self._find_own_reply(topic_id, int(post.get("post_number") or 0))
            except ForumError as exc:
                log.warning("cannot check topic %s for an earlier reply (%s); will retry", topic_id, exc)
                return False
            if existing is not None:
                self.store.mark_posted(PLATFORM, key, str(existing), where=str(topic_id))
                log.info(
                    "post %s: found my earlier reply %s in topic %s; not posting again",
                    post_id,
                    existing,
                    topic_id,
                )
                self._remember(post_id)
                return True
        raw = render_answer_md(decision, platform=PLATFORM)
        try:
            reply = await self.client.reply(topic_id, raw, int(post.get("post_number") or 0) or None)
        except ForumRejected as exc:
            # The forum will never take this reply (closed topic, validation): don't block the queue.
            self.store.release(PLATFORM, key)
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="rejected").inc()
            log.error("post %s: the forum refused the reply: %s", post_id, exc)
            self._record(event, decision, posted=False, reason_suffix=f"; reply refused: {exc}")
            self._remember(post_id)
            return True
        except ForumError as exc:
            # Unknown outcome (timeout, 5xx, connection lost): keep the claim, so the retry
            # looks for the reply before posting again.
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="post_failed").inc()
            self.health.error(PLATFORM, f"reply to post {post_id} failed: {exc}", kind="reply")
            log.warning("post %s: reply failed (%s); will check and retry", post_id, exc)
            return False
        reply_id = int(reply["id"])
        self.store.mark_posted(PLATFORM, key, str(reply_id), where=str(topic_id))
        self.health.success(PLATFORM, "reply")
        self._record(event, decision, posted=True)
        await self._report(event, decision, posted=True, reply_id=reply_id, source=source)
        self._remember(post_id)
        return True

    async def _find_own_reply(self, topic_id: int, post_number: int) -> int | None:
        """The id of the bot's reply to post `post_number` in the topic, if it is there."""
        topic = await self.client.topic(topic_id)
        stream = topic.get("post_stream") or {}
        posts = list(stream.get("posts") or [])
        loaded = {int(p["id"]) for p in posts}
        missing = [int(i) for i in stream.get("stream") or [] if int(i) not in loaded]
        for i in range(0, len(missing), 50):  # topics longer than one page
            posts += await self.client.topic_posts(topic_id, missing[i : i + 50])
        for p in posts:
            if (
                str(p.get("username") or "").lower() == self.me.lower()
                and int(p.get("reply_to_post_number") or 0) == post_number
            ):
                return int(p["id"])
        return None

    def _remember(self, post_id: int) -> None:
        self._seen[post_id] = None
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)

    def _record(self, event: Event, decision: Decision, *, posted: bool, reason_suffix: str = "") -> None:
        audit.record(
            self.store,
            event,
            decision,
            shadow=self.shadow,
            posted=posted,
            reason=decision.reason + reason_suffix,
        )

    async def _report(
        self, event: Event, decision: Decision, *, posted: bool, reply_id: int | None, source: str
    ) -> None:
        if self.on_handled is None:
            return
        result = self.on_handled(
            Handled(
                post_id=int(event.item_id),
                topic_id=int(event.where),
                action=decision.action.value,
                reason=decision.reason,
                entry=decision.entry.id if decision.entry else None,
                score=decision.match.score if decision.match else None,
                posted=posted,
                reply_id=reply_id,
            )
        )
        if result is not None:
            await result

    # -- webhooks -------------------------------------------------------------------------

    def webhook_route(self, secret: str) -> web.RouteDef:
        """POST /webhooks/discourse: verify the signature, dedupe on post id, handle at once."""
        key = secret.encode()
        received: OrderedDict[int, None] = OrderedDict()
        tasks: set[asyncio.Task[bool]] = set()

        async def handler(request: web.Request) -> web.Response:
            body = await request.read()
            signature = request.headers.get("X-Discourse-Event-Signature", "")
            expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
                metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="webhook_signature").inc()
                log.warning("rejected a webhook with a %s signature", "missing" if not signature else "wrong")
                return web.json_response({"error": "invalid signature"}, status=401)
            event_name = request.headers.get("X-Discourse-Event", "")
            if event_name != "post_created":
                return web.json_response({"ignored": event_name or "unknown"})
            try:
                post = json.loads(body)["post"]
                post_id = int(post["id"])
            except (ValueError, KeyError, TypeError):
                return web.json_response({"error": "not a post_created payload"}, status=400)
            # Discourse gives a retry a new event id, so the post id is the dedupe key.
            if post_id in received or post_id in self._seen:
                return web.json_response({"duplicate": post_id})
            received[post_id] = None
            while len(received) > _SEEN_MAX:
                received.popitem(last=False)
            feed = "private_posts" if is_private(post) else "posts"
            if post_id <= self._floor.get(feed, 0):
                return web.json_response({"ignored": "older than the bot's start"})
            task = asyncio.create_task(self.handle_post(post, source="webhook"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return web.json_response({"accepted": post_id})

        return web.post(WEBHOOK_PATH, handler)
