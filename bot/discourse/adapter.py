"""The Discourse adapter: watch the forum, ask the engine, reply at most once per post.

Feeds: `GET /posts.json` (public) and `GET /private-posts.json` (the PMs the account can
see; only those it is a direct participant of are answered), each with its own cursor
(the last fully handled post id), paged with `before`, plus a look-back over the newest
page for late posts and recent edits. Signed `post_created` and `post_edited` webhooks
are handled at once; polling stays on as the safety net.

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
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from bot import audit
from bot.config import DiscourseConfig
from bot.core.engine import Engine
from bot.core.models import Decision, Event, EventKind
from bot.discourse.client import (
    ForumAuthError,
    ForumClient,
    ForumError,
    ForumNotDiscourse,
    ForumRejected,
    ForumUnavailable,
    is_enqueued,
)
from bot.discourse.convert import (
    PLATFORM,
    author_of,
    is_flag_message,
    is_private,
    is_regular,
    marked_for,
    parse_time,
    to_event,
    with_marker,
)
from bot.discourse.triage import DiscourseTriage, label_call, sweep_removed
from bot.ops import metrics
from bot.ops.health import Health
from bot.render import render_answer_md
from bot.state import Retry, Store

log = logging.getLogger(__name__)

FEEDS = ("posts", "private_posts")
WEBHOOK_PATH = "/webhooks/discourse"
MAX_BACKOFF = 120.0
_SEEN_MAX = 5000
LATE_WINDOW = 7 * 86400.0  # seconds of audit log consulted to tell a late post from a decided one
EDIT_WINDOW = 3600.0  # seconds: edits older than this are not looked at again when polling


def _version(post: dict[str, Any]) -> int:
    """Discourse's post `version` (1 for a post never edited)."""
    value = post.get("version")
    return value if isinstance(value, int) and value > 0 else 1


class StartupError(RuntimeError):
    """The adapter cannot start (refused key, wrong URL, admin account). One line."""


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


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why one attempt at a post did not finish it; the decision when one was taken (for the
    audit line if the post is set aside), and when a send of unknown outcome left."""

    reason: str
    event: Event | None = None
    decision: Decision | None = None
    sent_at: float | None = None


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
        self._pm_topics: OrderedDict[int, bool] = OrderedDict()  # PM topic -> the bot's own conversation
        self._floor: dict[str, int] = {}
        self._recent: dict[str, list[dict[str, Any]]] = {}  # newest page of each feed, last poll
        self._versions: OrderedDict[int, int] = OrderedDict()  # post id -> version handled
        self._late_logged: set[int] = set()
        self._ready = False  # key checked, cursors set
        self._is_down = False  # the forum is unreachable (one log line per change)
        self._outage_at_start = False
        self._warned_not_moderator = False
        self._started_wall = time.time()
        self._wake = asyncio.Event()
        self.triage = DiscourseTriage(self)
        health.register(PLATFORM)

    # -- start-up -------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the key and URL, learn who we are, and set the cursors on a first start.

        Raises `StartupError` (one line) for what a retry cannot fix: a refused key or user,
        a URL that is not a Discourse API, an admin account. A forum that is down or answers
        5xx is not fatal: the adapter starts disconnected (health 503 with the reason) and
        `run()` keeps trying with capped backoff, then catches up on the backlog.
        """
        self._started_wall = time.time()
        try:
            await self._connect()
        except ForumUnavailable as exc:
            self._down(f"forum unreachable at start-up: {exc}")

    @property
    def ready(self) -> bool:
        """True once the key was checked and the cursors are set."""
        return self._ready

    async def _connect(self) -> None:
        try:
            user = await self.client.current_user()
        except ForumAuthError as exc:
            if not exc.bad_credentials:
                raise self._scope_error(exc) from None
            raise StartupError(
                f"discourse: the forum at {self.cfg.url} refused the API key or username "
                f"{self.cfg.api_username!r} ({exc}); check FARMHAND_DISCOURSE_API_KEY, "
                "discourse.url and discourse.api_username"
            ) from None
        except (ForumRejected, ForumNotDiscourse) as exc:
            raise StartupError(
                f"discourse: {self.cfg.url} does not look like a Discourse forum ({exc}); check discourse.url"
            ) from None
        except ForumUnavailable:
            raise
        except ForumError as exc:
            raise ForumUnavailable(str(exc)) from None
        self.me = str(user.get("username") or self.cfg.api_username)
        if user.get("admin"):
            # An admin's /private-posts.json is every PM on the site, and an admin may post
            # anywhere; a support bot needs neither. Least privilege: refuse.
            raise StartupError(
                f"discourse: the forum account {self.me!r} is an admin; farmhand does not run as an "
                "admin (it would read every private message on the site): make it a moderator instead"
            )
        if not user.get("moderator") and not self._warned_not_moderator:
            self._warned_not_moderator = True
            log.warning(
                "the forum account %s is not a moderator: Discourse's new-user and duplicate-post "
                "limits will apply to its replies",
                self.me,
            )
        for feed in FEEDS:
            # Read each feed once now, so a key that may not read it fails here with the route
            # named, not later in every poll (and the first start needs the page anyway).
            try:
                page = await self._page(feed, None)
            except ForumAuthError as exc:
                raise self._scope_error(exc) from None
            saved = self.store.get_cursor(_cursor_name(feed))
            if saved is None:
                # First start: everything already on the forum is history, not questions for us.
                top = self._first_cursor(page)
                self.store.set_cursor(_cursor_name(feed), str(top))
                log.info("first start on %s: ignoring %s up to post %d", self.cfg.url, feed, top)
                saved = str(top)
            self._floor[feed] = int(saved)
        self._ready = True
        self._up()

    def _scope_error(self, exc: ForumAuthError) -> StartupError:
        route = exc.route or "a request"
        return StartupError(
            f"discourse: the forum refused {route} with {exc.status or 403} for the API key of "
            f"{self.cfg.api_username!r}: its scopes do not allow it; farmhand needs a key with "
            "scope Global, or the granular scopes global:read (every GET) and topics:write (POST /posts)"
        )

    def _first_cursor(self, page: list[dict[str, Any]]) -> int:
        """The cursor of a first start: the newest post, or, when the forum was unreachable at
        start-up, the newest post older than the bot's start (what came in meanwhile is answered)."""
        ids = [int(p["id"]) for p in page]
        if not ids:
            return 0
        if not self._outage_at_start:
            return max(ids)
        older = []
        for p in page:
            created = parse_time(p.get("created_at"))
            if created is None or created.timestamp() < self._started_wall:
                older.append(int(p["id"]))
        return max(older) if older else min(ids) - 1

    def _down(self, reason: str) -> None:
        """The forum cannot be reached: health 503 with the reason; one log line per change."""
        metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="network").inc()
        metrics.PLATFORM_UP.labels(platform=PLATFORM).set(0)
        self.health.error(PLATFORM, reason, disconnected=True)
        if not self._ready:
            self._outage_at_start = True
        if self._is_down:
            log.debug("forum still unreachable: %s", reason)
            return
        self._is_down = True
        log.warning("%s; retrying with backoff (at most every %g s)", reason, MAX_BACKOFF)

    def _up(self) -> None:
        metrics.PLATFORM_UP.labels(platform=PLATFORM).set(1)
        self.health.ok(PLATFORM)
        if self._is_down:
            self._is_down = False
            log.info("forum %s reachable again; catching up", self.cfg.url)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with full jitter, capped, so many bots don't hammer a recovering forum."""
        delay = min(MAX_BACKOFF, self.cfg.poll_seconds * 2 ** min(failures, 12))
        return random.uniform(delay / 2, delay)

    async def _page(self, feed: str, before: int | None) -> list[dict[str, Any]]:
        if feed == "posts":
            return await self.client.latest_posts(before)
        return await self.client.private_posts(before)

    # -- polling --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `poll_seconds` until `stop` is set; back off on errors. The error boundary."""
        failures = 0
        while not stop.is_set() and not self._ready:
            # The forum was unreachable at start-up: keep trying (a StartupError ends the run).
            failures += 1
            await self._sleep(self._backoff(failures), stop)
            if stop.is_set():
                return
            try:
                await self._connect()
            except ForumUnavailable as exc:
                self._down(f"forum unreachable at start-up: {exc}")
        failures = 0
        while not stop.is_set():
            try:
                await self.poll_once()  # a post still being retried has its own schedule: no backoff here
                self._up()
                failures = 0
            except ForumUnavailable as exc:
                failures += 1
                self._down(f"forum unreachable: {exc}")
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
            await self._sleep(self._backoff(failures) if failures else self.cfg.poll_seconds, stop)

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
            if before is None:
                self._recent[feed] = page  # the newest page: where recent edits show up
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
        # Posts above a cursor held back by one still being retried were handled in an earlier
        # poll; after a restart the audit log says which (no second decision, no second line).
        unseen = [str(i) for i, _, _ in batch if i not in self._seen]
        decided = self.store.decided_items(PLATFORM, unseen, since=time.time() - LATE_WINDOW)
        held: set[str] = set()  # feeds whose cursor waits for a post still being retried
        complete = True
        for post_id, feed, post in batch:
            if str(post_id) in decided:
                self._remember(post_id)
                done = True
            else:
                done = await self.handle_post(
                    post,
                    private=feed == "private_posts",
                    answered_by_human=int(post.get("topic_id") or 0) in human_answered,
                )
            if not done:
                # The cursor must not pass it, but the posts after it are not kept waiting:
                # each has its own retries, and this one its own budget (see `_failed`).
                held.add(feed)
                complete = False
            elif feed not in held:
                self.store.set_cursor(_cursor_name(feed), str(post_id))
        self.health.retrying(PLATFORM, self.store.retrying_count(PLATFORM))
        complete = await self._recheck_edits() and complete
        await self.triage.flush()
        await sweep_removed(self.triage)
        return complete

    async def _recheck_edits(self) -> bool:
        """A bounded look-back over the newest page of each feed (already fetched, no extra
        request), for posts at or below the cursor:

        - late arrivals: a post that shows up with an id below the cursor (approved from the
          review queue, unhidden, a slow transaction) and was never handled nor decided;
        - edits: posts edited within EDIT_WINDOW since the bot last handled them (an
          @mention or a dump added by an edit).

        Still at most one reply per post: the claim decides, whatever the path.
        """
        now = time.time()
        complete = True
        for feed in FEEDS:
            cursor = int(self.store.get_cursor(_cursor_name(feed)) or 0)
            recent = [
                p for p in self._recent.get(feed, []) if self._floor.get(feed, 0) < int(p["id"]) <= cursor
            ]
            unseen = [str(p["id"]) for p in recent if int(p["id"]) not in self._seen]
            decided = self.store.decided_items(PLATFORM, unseen, since=now - LATE_WINDOW)
            for post in sorted(recent, key=lambda p: int(p["id"])):
                post_id = int(post["id"])
                if post_id not in self._seen and str(post_id) not in decided:
                    if post_id not in self._late_logged:
                        self._late_logged.add(post_id)
                        log.info(
                            "post %s appeared below the %s cursor (%s); handling it", post_id, feed, cursor
                        )
                    done = await self.handle_post(post, private=feed == "private_posts", source="late")
                    complete = complete and done
                    continue
                if _version(post) <= self._versions.get(post_id, 1):
                    continue
                edited_at = parse_time(post.get("updated_at"))
                if edited_at is None or now - edited_at.timestamp() > EDIT_WINDOW:
                    continue
                done = await self.handle_post(post, private=feed == "private_posts", edited=True)
                complete = complete and done
        return complete

    def _human_answered_topics(self, posts: list[dict[str, Any]]) -> set[int]:
        """Topics where a staff member (not the bot) replied, as far as this batch shows.

        Only regular posts count: a whisper is not seen by the asker, and a moderator
        action ("closed this topic") is no answer.
        """
        out = set()
        for p in posts:
            author = author_of(p, self.me)
            if (
                is_regular(p)
                and int(p.get("post_number") or 0) > 1
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
        edited: bool = False,
    ) -> bool:
        """Decide about one post and reply if needed; True when it is fully handled.

        `edited`: the post changed after it was handled (a `post_edited` webhook or a recent
        edit seen while polling); it is decided again unless this version was handled already
        or the bot has replied to it (the claim keeps it to one reply per post).
        """
        async with self._lock:
            post_id, version = int(post["id"]), _version(post)
            if edited and version <= self._versions.get(post_id, 1):
                return True
            if edited:
                self._seen.pop(post_id, None)
            done = await self._handle(
                post, private=private, answered_by_human=answered_by_human, source=source
            )
            if done:
                self._versions[post_id] = max(version, self._versions.get(post_id, 1))
                while len(self._versions) > _SEEN_MAX:
                    self._versions.popitem(last=False)
            return done

    async def _handle(
        self, post: dict[str, Any], *, private: bool, answered_by_human: bool, source: str
    ) -> bool:
        """One attempt at a post, within its retry budget; True when it is done (or set aside)."""
        post_id = int(post["id"])
        if post_id in self._seen:
            return True
        key = f"post:{post_id}"
        retry = self.store.retry_get(PLATFORM, key)
        if retry is not None and retry.set_aside_at is not None:
            self._remember(post_id)  # given up on earlier (maybe before a restart): never again
            return True
        if not self._due(key, retry):
            return False  # its next try is not due yet; later posts go on meanwhile
        outcome = await self._attempt(
            post, private=private, answered_by_human=answered_by_human, source=source, retry=retry
        )
        if outcome is True:
            # (a row may also have been made during this attempt, before posting again)
            if retry is not None or self.store.retry_get(PLATFORM, key) is not None:
                self.store.retry_clear(PLATFORM, key)
            return True
        return self._failed(post, key, outcome, retry)

    def _due(self, key: str, retry: Retry | None) -> bool:
        """Whether a post may be tried now: its backoff is over, and after a reply of unknown
        outcome (a timeout, a kill -9 mid-POST) the forum has had longer than its own request
        timeout to store it, so the re-check sees the reply if it is ever going to land."""
        now = time.time()
        if retry is not None and now < retry.next_at:
            return False
        # With a retry row its last send says; without one a claim left "claimed" is a POST
        # that was in flight when the bot died.
        sent = retry.sent_at if retry is not None else self.store.claimed_at(PLATFORM, key)
        return sent is None or now >= sent + self._recheck_after

    @property
    def _recheck_after(self) -> float:
        # The forum's own limit, plus one of ours for the request's way there.
        return self.cfg.forum_request_timeout + self.cfg.request_timeout

    def _failed(self, post: dict[str, Any], key: str, failure: _Failure, retry: Retry | None) -> bool:
        """Count a failed attempt; set the post aside once its budget is spent (True: done)."""
        now = time.time()
        post_id = int(post["id"])
        attempts = (retry.attempts if retry is not None else 0) + 1
        first_at = retry.first_at if retry is not None else now
        spent = attempts >= self.cfg.retry_attempts or now - first_at >= self.cfg.retry_minutes * 60
        delay = min(MAX_BACKOFF, self.cfg.poll_seconds * 2 ** min(attempts, 12))
        self.store.retry_failed(
            PLATFORM,
            key,
            attempts=attempts,
            first_at=first_at,
            next_at=now + delay,
            error=failure.reason,
            sent_at=failure.sent_at,
            set_aside=spent,
        )
        if not spent:
            return False
        what = (
            f"set aside after {attempts} failed attempts in {now - first_at:.0f} s "
            f"(last: {self._quiet(failure.reason)})"
        )
        metrics.POSTS_SET_ASIDE.labels(platform=PLATFORM).inc()
        self.health.warning(PLATFORM, f"post {post_id} (topic {post.get('topic_id')}) {what}")
        if failure.event is not None and failure.decision is not None:
            # The decision's audit line, at warning level, is the one log line about it.
            self._record(
                failure.event, failure.decision, posted=False, reason_suffix=f"; {what}", level=logging.WARNING
            )
        else:
            log.warning("post %s: %s; not trying it again", post_id, what)
        self._remember(post_id)
        return True

    def _quiet(self, message: str) -> str:
        """An error line without the forum's address (logs and health never name hosts)."""
        return message.replace(self.client.url, "the forum")

    async def _attempt(
        self,
        post: dict[str, Any],
        *,
        private: bool,
        answered_by_human: bool,
        source: str,
        retry: Retry | None,
    ) -> Literal[True] | _Failure:
        post_id = int(post["id"])
        topic_id = int(post.get("topic_id") or 0)
        private = is_private(post, from_private_feed=private)
        author = author_of(post, self.me)
        if author.is_self or author.is_bot:
            self._remember(post_id)  # never itself or other bots; not even an audit line
            return True
        if private and self.triage.is_command_post(post):
            # The moderators' triage PM: commands, never questions (bot/discourse/triage.py).
            if await self.triage.handle_command_post(post):
                self._remember(post_id)
                return True
            return _Failure(f"triage command post {post_id} not handled")
        if private and is_regular(post):
            try:
                mine = await self._my_conversation(topic_id)
            except ForumError as exc:
                log.log(
                    logging.WARNING if retry is None else logging.DEBUG,
                    "cannot read PM topic %s to check who is in it (%s); will retry",
                    topic_id,
                    exc,
                )
                return _Failure(f"cannot read PM topic {topic_id}: {exc}")
            if not mine:
                self._remember(post_id)  # someone else's conversation or a flag: not even an audit line
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
            self.triage.queue(event, decision)
            await self._report(event, decision, posted=False, reply_id=None, source=source)
            self._remember(post_id)
            return True

        raw = with_marker(render_answer_md(decision, platform=PLATFORM), post_id)
        if not self.store.claim(PLATFORM, key, where=str(topic_id)):
            # Claimed by an earlier run that may have posted and died before recording it.
            try:
                existing = await self._find_own_reply(topic_id, post_id, int(post.get("post_number") or 0))
                held = None if existing is not None else await self._find_own_pending(topic_id, raw)
            except ForumError as exc:
                log.log(
                    logging.WARNING if retry is None else logging.DEBUG,
                    "cannot check topic %s for an earlier reply (%s); will retry",
                    topic_id,
                    exc,
                )
                return _Failure(f"cannot check topic {topic_id} for an earlier reply: {exc}", event, decision)
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
            if held is not None:
                await self._held(event, decision, key, held, source=source, found=True)
                return True
            self.store.retry_sent(PLATFORM, key, time.time())  # posting again: recorded before it leaves
        sent_at = time.time()
        try:
            reply = await self.client.reply(topic_id, raw, int(post.get("post_number") or 0) or None)
        except ForumRejected as exc:
            # The forum will never take this reply (403: closed or archived topic, a key whose
            # scopes do not allow the route; 422: validation): release it and carry on. The
            # decision's audit line, at warning level, is the one log line about it.
            self.store.release(PLATFORM, key)
            kind = "forbidden" if exc.status == 403 else "rejected"
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind=kind).inc()
            self._record(
                event, decision, posted=False, reason_suffix=f"; reply refused: {exc}", level=logging.WARNING
            )
            self._remember(post_id)
            return True
        except ForumError as exc:
            # Unknown outcome (timeout, 5xx, connection lost): keep the claim, so the retry
            # looks for the reply before posting again.
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="post_failed").inc()
            self.health.error(PLATFORM, f"reply to post {post_id} failed: {exc}", kind="reply")
            # One warning when a post starts failing; its retries are debug lines.
            log.log(
                logging.WARNING if retry is None else logging.DEBUG,
                "post %s: reply failed (%s); will check and retry",
                post_id,
                exc,
            )
            unknown = not (isinstance(exc, ForumUnavailable) and exc.answered)
            return _Failure(f"reply failed: {exc}", event, decision, sent_at=sent_at if unknown else None)
        if is_enqueued(reply):
            pending = reply.get("pending_post") or {}
            await self._held(event, decision, key, str(pending.get("id") or "?"), source=source)
            return True
        reply_id = int(reply["id"])
        self.store.mark_posted(PLATFORM, key, str(reply_id), where=str(topic_id))
        self.health.success(PLATFORM, "reply")
        self._record(event, decision, posted=True)
        if event.kind is EventKind.MENTION:
            await label_call(self.triage, event, decision, post)
        await self._report(event, decision, posted=True, reply_id=reply_id, source=source)
        self._remember(post_id)
        return True

    async def _my_conversation(self, topic_id: int) -> bool:
        """True when the bot is a direct participant of this PM and it was not started by a flag.

        An admin sees every PM on the site in /private-posts.json and a moderator every
        group-inbox PM, including each "notify moderators" flag; none of those are calls to
        the bot. One `GET /t/{id}.json` per topic, cached for the run.
        """
        if topic_id in self._pm_topics:
            self._pm_topics.move_to_end(topic_id)
            return self._pm_topics[topic_id]
        try:
            topic = await self.client.topic(topic_id)
        except (ForumRejected, ForumAuthError) as exc:  # 403/404: the bot cannot see it, so not its own
            log.info("PM topic %s is not readable (%s): not my conversation", topic_id, exc)
            topic = {}
        details = topic.get("details") or {}
        allowed = {str(u.get("username") or "").lower() for u in details.get("allowed_users") or []}
        first = next(iter((topic.get("post_stream") or {}).get("posts") or []), None)
        verdict = (
            self.me.lower() in allowed
            and not topic.get("is_warning")
            and not (first is not None and is_flag_message(first, self.cfg.url))
        )
        if not verdict:
            log.info(
                "PM topic %s: %s; not answering it",
                topic_id,
                "started by a flag" if self.me.lower() in allowed else "the bot is not a direct participant",
            )
        self._pm_topics[topic_id] = verdict
        while len(self._pm_topics) > _SEEN_MAX:
            self._pm_topics.popitem(last=False)
        return verdict

    async def _held(
        self, event: Event, decision: Decision, key: str, pending_id: str, *, source: str, found: bool = False
    ) -> None:
        """The forum put the reply in its review queue: done, never posted again (a moderator
        approves or rejects it). Recorded as `pending:<id>` in place of a reply id."""
        self.store.mark_posted(PLATFORM, key, f"pending:{pending_id}", where=event.where)
        metrics.REPLIES_HELD.labels(platform=PLATFORM).inc()
        self.health.held_for_approval(PLATFORM)
        log.warning(
            "post %s: the forum %s my reply for approval (pending post %s); not posting it again",
            event.item_id,
            "already holds" if found else "holds",
            pending_id,
        )
        self._record(event, decision, posted=False, reason_suffix="; reply held for approval by the forum")
        await self._report(event, decision, posted=False, reply_id=None, source=source)
        self._remember(int(event.item_id))

    async def _find_own_pending(self, topic_id: int, raw: str) -> str | None:
        """The id of the bot's reply waiting in the review queue for this topic, if any."""
        try:
            pending = await self.client.pending_posts(self.me)
        except (ForumRejected, ForumAuthError, ForumNotDiscourse) as exc:
            log.info("cannot list my posts awaiting approval (%s); assuming none", exc)
            return None
        for p in pending:
            if (
                int(p.get("topic_id") or 0) == topic_id
                and str(p.get("raw_text") or "").strip() == raw.strip()
            ):
                return str(p.get("id"))
        return None

    async def _find_own_reply(self, topic_id: int, post_id: int, post_number: int) -> int | None:
        """The id of the bot's reply to post `post_id` (number `post_number`) in the topic, if it
        is there: the one whose marker names the post; a reply without a marker (from before
        markers, or a forum that sends no `raw`) counts when it answers that post number."""
        topic = await self.client.topic(topic_id, include_raw=True)
        stream = topic.get("post_stream") or {}
        posts = list(stream.get("posts") or [])
        loaded = {int(p["id"]) for p in posts}
        missing = [int(i) for i in stream.get("stream") or [] if int(i) not in loaded]
        for i in range(0, len(missing), 50):  # topics longer than one page
            posts += await self.client.topic_posts(topic_id, missing[i : i + 50], include_raw=True)
        mine = [p for p in posts if str(p.get("username") or "").lower() == self.me.lower()]
        for p in mine:
            if marked_for(p) == post_id:
                return int(p["id"])
        for p in mine:
            if marked_for(p) is None and int(p.get("reply_to_post_number") or 0) == post_number:
                return int(p["id"])
        return None

    def _remember(self, post_id: int) -> None:
        self._seen[post_id] = None
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)

    def _record(
        self,
        event: Event,
        decision: Decision,
        *,
        posted: bool,
        reason_suffix: str = "",
        level: int = logging.INFO,
    ) -> None:
        audit.record(
            self.store,
            event,
            decision,
            shadow=self.shadow,
            posted=posted,
            reason=decision.reason + reason_suffix,
            level=level,
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
        received: OrderedDict[tuple[int, int], None] = OrderedDict()
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
            if event_name not in ("post_created", "post_edited"):
                return web.json_response({"ignored": event_name or "unknown"})
            edited = event_name == "post_edited"
            try:
                post = json.loads(body)["post"]
                post_id = int(post["id"])
            except (ValueError, KeyError, TypeError):
                return web.json_response({"error": "not a post_created payload"}, status=400)
            # Discourse gives a retry a new event id, so the post (and its version, for edits)
            # is the dedupe key.
            dedupe = (post_id, _version(post) if edited else 0)
            if dedupe in received or (not edited and post_id in self._seen):
                return web.json_response({"duplicate": post_id})
            if edited and _version(post) <= self._versions.get(post_id, 1):
                return web.json_response({"duplicate": post_id})
            received[dedupe] = None
            while len(received) > _SEEN_MAX:
                received.popitem(last=False)
            if not self._ready:
                # Not connected yet (no cursors): Discourse retries a failed delivery later.
                received.pop(dedupe, None)
                return web.json_response({"error": "not ready"}, status=503)
            feed = "private_posts" if is_private(post) else "posts"
            if post_id <= self._floor.get(feed, 0):
                return web.json_response({"ignored": "older than the bot's start"})
            task = asyncio.create_task(self.handle_post(post, source="webhook", edited=edited))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return web.json_response({"accepted": post_id})

        return web.post(WEBHOOK_PATH, handler)
