"""pydiscourse, made safe for an asyncio service.

pydiscourse is synchronous (requests) and, on a 429, sleeps by itself inside the call
(up to four times, ~10 s each for plain-text 429s). That would hide rate limits from us
and tie up a worker thread. `_Client` overrides its `_request` to send exactly one
request with our timeout and turn every outcome into a typed error; `ForumClient` runs
calls on its own few worker threads, and waits out 429s on the event loop for as long as
the forum says (JSON `extras.wait_seconds`, or the `Retry-After` header of a plain-text 429).

Deadlines: the requests timeout bounds each socket wait, not the call, so a forum that sends
headers and then one byte a second keeps a call reading for as long as it likes. Each call
therefore has a total deadline (`timeout`): at the deadline its socket is shut down from the
event loop, which ends the read in the worker thread at once. At most `MAX_IN_FLIGHT` calls
run at a time, and a slot is free again only when its thread has really finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
import urllib3.connection
import urllib3.connectionpool
from pydiscourse import DiscourseClient
from requests.adapters import HTTPAdapter

from bot.ops import metrics

log = logging.getLogger(__name__)

JSON_CONTENT = "application/json; charset=utf-8"
DEFAULT_429_WAIT = 10.0  # Discourse's early (nginx) 429s carry no wait; pydiscourse uses 10 s too
MAX_RATE_WAIT = 900.0
MAX_RATE_RETRIES = 6
MAX_IN_FLIGHT = 4  # forum calls running at once; the rest wait (within their deadline) for a slot
T = TypeVar("T")


class ForumError(Exception):
    """Talking to the forum failed. The message is one line and holds no secrets."""


class ForumAuthError(ForumError):
    """The forum refused the API key or user (401/403), or the URL is not a Discourse API."""

    def __init__(self, message: str, status: int | None = None, route: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.route = route  # "GET /posts.json": the request the forum refused

    @property
    def bad_credentials(self) -> bool:
        """True when the forum said the key or username is wrong (401, or Discourse's 403
        "The API username or key is invalid"), not that this key may not use this route."""
        return self.status != 403 or "key is invalid" in str(self).lower()


class ForumNotDiscourse(ForumError):
    """The URL answers, but not like a Discourse API (HTML page, redirect): wrong discourse.url."""


class ForumUnavailable(ForumError):
    """Network error, timeout or 5xx: back off and try again.

    `answered`: the forum itself answered (a 500 or 503 from Discourse), so it is done with
    the request; False for a timeout, a lost connection or a proxy's 502/504, after which
    the forum may still be working on it (a POST may land later).
    """

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


class ForumRejected(ForumError):
    """A 4xx other than 429 (and a 403 on a POST): this request will not succeed if repeated."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ForumError):
    """429: wait `wait_seconds` before the next request."""

    def __init__(self, message: str, wait_seconds: float) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


def _errors(resp: requests.Response) -> str:
    try:
        data = resp.json()
        msg = ", ".join(str(e) for e in data.get("errors", []))
    except (ValueError, AttributeError):
        msg = ""
    return (msg or resp.reason or "").splitlines()[0][:200] if (msg or resp.reason) else ""


def _rate_limit_wait(resp: requests.Response) -> float:
    if "application/json" in resp.headers.get("Content-Type", ""):
        try:
            return float(resp.json()["extras"]["wait_seconds"])
        except (ValueError, KeyError, TypeError):
            pass
    retry_after = resp.headers.get("Retry-After", "").strip()
    try:
        return float(retry_after)
    except ValueError:
        return DEFAULT_429_WAIT


class _Call:
    """The sockets of one forum call in flight, so it can be ended from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.aborted = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if not self.aborted:
                return
        _shut(sock)  # connected after its deadline: end it at once

    def abort(self) -> None:
        """End the call: shutting the socket down wakes a blocked read with end-of-file (closing
        it from another thread would race with the reader for the descriptor)."""
        with self._lock:
            self.aborted = True
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()  # the _Call of the request running on this worker thread


class _TrackedMixin:
    """Registers each new socket with the call running on this thread."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        call: _Call | None = getattr(_current, "call", None)
        if call is not None:
            call.add(sock)
        return sock


class _HTTPConnection(_TrackedMixin, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_TrackedMixin, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _TrackedAdapter(HTTPAdapter):
    """requests' adapter with connections whose sockets a deadline can shut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager


class _Client(DiscourseClient):
    """pydiscourse with one request per call and typed errors instead of sleeps."""

    def _request(
        self,
        verb: str,
        path: str,
        params: Any = None,
        files: Any = None,
        data: Any = None,
        json: Any = None,
        override_request_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        headers = {
            "Accept": JSON_CONTENT,
            "Api-Key": self.api_key,
            "Api-Username": self.api_username,
        }
        kwargs: dict[str, Any] = {
            "allow_redirects": False,
            "params": params,
            "files": files,
            "data": data,
            "json": json,
            "headers": headers,
            "timeout": self.timeout,
        }
        kwargs.update(override_request_kwargs or {})
        try:
            # A session per call (as requests.request makes), with sockets the deadline can shut.
            with requests.Session() as session:
                session.mount("http://", _TrackedAdapter())
                session.mount("https://", _TrackedAdapter())
                resp = session.request(verb, self.host + path, **kwargs)
        except requests.Timeout:
            raise ForumUnavailable(f"{verb} {path}: timed out after {self.timeout:g} s") from None
        except requests.ConnectionError:
            raise ForumUnavailable(f"{verb} {path}: cannot connect to {self.host}") from None
        except requests.RequestException as exc:
            raise ForumUnavailable(f"{verb} {path}: {type(exc).__name__}") from None
        status = resp.status_code
        if status == 429:
            wait = _rate_limit_wait(resp)
            raise RateLimited(f"{verb} {path}: rate limited, wait {wait:g} s", wait)
        if status >= 500:
            raise ForumUnavailable(f"{verb} {path}: server error {status}", answered=status not in (502, 504))
        if status in (401, 403):
            raise ForumAuthError(
                f"{verb} {path}: {status} {_errors(resp) or 'forbidden'}", status, f"{verb} {path}"
            )
        if 300 <= status < 400:
            raise ForumNotDiscourse(f"{verb} {path}: redirected ({status})")
        if status >= 400:
            raise ForumRejected(f"{verb} {path}: {status} {_errors(resp)}".strip(), status)
        content_type = resp.headers.get("Content-Type", "")
        if content_type != JSON_CONTENT:
            if not resp.content.strip():
                return None
            raise ForumNotDiscourse(
                f"{verb} {path}: not a Discourse API response ({content_type or 'no type'})"
            )
        try:
            decoded = resp.json()
        except ValueError:
            raise ForumUnavailable(f"{verb} {path}: undecodable JSON", answered=True) from None
        if isinstance(decoded, dict) and decoded.get("errors"):
            raise ForumRejected(f"{verb} {path}: {', '.join(map(str, decoded['errors']))[:200]}", status)
        return decoded


class ForumClient:
    """Async access to one forum as one user; every call has a timeout and 429s are waited out."""

    def __init__(
        self,
        url: str,
        api_username: str,
        api_key: str,
        *,
        timeout: float = 20.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_username = api_username
        self.timeout = timeout
        self._c = _Client(self.url, api_username, api_key, timeout=timeout)
        self._sleep = sleep
        self.rate_limited_waits: list[float] = []  # for tests and logs: what the forum asked
        # Its own threads: a stuck forum can never take the loop's default executor (DNS
        # lookups, other platforms) with it.
        self._threads = ThreadPoolExecutor(max_workers=MAX_IN_FLIGHT, thread_name_prefix="forum-call")
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._calls: set[_Call] = set()

    async def call(self, fn: Callable[[], T], what: str) -> T:
        """Run one pydiscourse call off the loop; wait out 429s; raise ForumError otherwise."""
        for _attempt in range(MAX_RATE_RETRIES):
            try:
                return await self._run(fn, what)
            except RateLimited as exc:
                metrics.PLATFORM_ERRORS.labels(platform="discourse", kind="rate_limited").inc()
                wait = min(max(exc.wait_seconds, 0.0), MAX_RATE_WAIT)
                self.rate_limited_waits.append(wait)
                log.warning("forum rate limit on %s: waiting %.1f s as the forum asks", what, wait)
                await self._sleep(wait)
        raise ForumUnavailable(f"{what}: still rate limited after {MAX_RATE_RETRIES} waits", answered=True)

    @property
    def in_flight(self) -> int:
        """Calls whose worker thread has not finished yet (at most MAX_IN_FLIGHT)."""
        return len(self._calls)

    async def _run(self, fn: Callable[[], T], what: str) -> T:
        """One request on a worker thread, ended for good at its deadline (`timeout`, in total:
        waiting for a slot, connecting, sending and reading)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:  # a semaphore belongs to one loop
            self._slots, self._slots_loop = asyncio.Semaphore(MAX_IN_FLIGHT), loop
        slots = self._slots
        deadline = loop.time() + self.timeout
        try:
            await asyncio.wait_for(slots.acquire(), self.timeout)
        except TimeoutError:
            metrics.PLATFORM_ERRORS.labels(platform="discourse", kind="timeout").inc()
            raise ForumUnavailable(f"{what}: {MAX_IN_FLIGHT} forum calls still running") from None
        call = _Call()
        self._calls.add(call)

        def work() -> T:
            _current.call = call
            try:
                return fn()
            finally:
                _current.call = None

        def finished(fut: asyncio.Future[T]) -> None:
            self._calls.discard(call)
            slots.release()  # only now is the thread free again
            if not fut.cancelled():
                fut.exception()  # retrieved: an abandoned call's error is not "never retrieved"

        future = loop.run_in_executor(self._threads, work)
        future.add_done_callback(finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, deadline - loop.time()))
        except TimeoutError:
            call.abort()
            metrics.PLATFORM_ERRORS.labels(platform="discourse", kind="timeout").inc()
            raise ForumUnavailable(f"{what}: no complete answer within {self.timeout:g} s") from None
        except asyncio.CancelledError:
            call.abort()  # the service is stopping: do not leave the thread reading
            raise

    def close(self) -> None:
        """End every call in flight and let the worker threads go (the service is stopping)."""
        for call in list(self._calls):
            call.abort()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def current_user(self) -> dict[str, Any]:
        """The API user's own record (the start-up credential check)."""
        data = await self.call(lambda: self._c._get("/session/current.json"), "GET /session/current.json")
        user = (data or {}).get("current_user") if isinstance(data, dict) else None
        if not isinstance(user, dict):
            raise ForumAuthError("GET /session/current.json: no current user: wrong API key or username?")
        return user

    async def latest_posts(self, before: int | None = None) -> list[dict[str, Any]]:
        """A page of public posts, newest first (`before`: only ids below it)."""
        data = await self.call(lambda: self._c.latest_posts(before=before), "GET /posts.json")
        return list((data or {}).get("latest_posts") or [])

    async def private_posts(self, before: int | None = None) -> list[dict[str, Any]]:
        """A page of the private-message posts the bot can see, newest first."""
        params = {"before": before} if before else {}
        data = await self.call(
            lambda: self._c._get("/private-posts.json", **params), "GET /private-posts.json"
        )
        return list((data or {}).get("private_posts") or (data or {}).get("latest_posts") or [])

    async def topic(self, topic_id: int, *, include_raw: bool = False) -> dict[str, Any]:
        """A topic with the first posts and the ids of all its posts (`post_stream.stream`);
        `include_raw`: with each post's Markdown (Discourse serves only `cooked` otherwise)."""
        params = {"include_raw": "true"} if include_raw else {}
        data = await self.call(
            lambda: self._c._get(f"/t/{int(topic_id)}.json", **params), f"GET /t/{topic_id}.json"
        )
        return data or {}

    async def topic_posts(
        self, topic_id: int, post_ids: list[int], *, include_raw: bool = False
    ) -> list[dict[str, Any]]:
        """Specific posts of a topic (`include_raw`: with their Markdown)."""
        params: dict[str, Any] = {"post_ids[]": post_ids}
        if include_raw:
            params["include_raw"] = "true"
        data = await self.call(
            lambda: self._c.topic_posts(int(topic_id), **params),
            f"GET /t/{topic_id}/posts.json",
        )
        return list(((data or {}).get("post_stream") or {}).get("posts") or [])

    async def reply(self, topic_id: int, raw: str, reply_to_post_number: int | None) -> dict[str, Any]:
        """Post a reply in a topic (or PM); returns the created post. A 403 raises
        `ForumRejected` (this reply is refused for good), a 401 `ForumAuthError`.

        When the forum holds the post for approval it answers 200 with
        `{"action": "enqueued", "pending_post": {"id": ...}, ...}` and no post id; that
        answer is returned as it is (see `is_enqueued`).
        """
        extra = {"reply_to_post_number": reply_to_post_number} if reply_to_post_number else {}
        try:
            data = await self.call(
                lambda: self._c.create_post(raw, topic_id=int(topic_id), **extra),
                f"POST /posts (topic {topic_id})",
            )
        except ForumAuthError as exc:
            if exc.status == 403:
                # Discourse's "invalid access" on a write: the topic is closed or archived, the
                # bot may not post there, or the key's scopes do not allow the route. Asking
                # again will not change it: a refusal of this reply, not a broken key.
                raise ForumRejected(
                    f"{exc} (a closed or archived topic, or a key without the topics:write scope)", 403
                ) from None
            raise
        if is_enqueued(data):
            return data
        if not isinstance(data, dict) or "id" not in data:
            raise ForumUnavailable(f"POST /posts (topic {topic_id}): no post in the answer", answered=True)
        return data

    async def post(self, post_id: int) -> dict[str, Any] | None:
        """One post (`GET /posts/{id}.json`), or None when the forum says it is not there (404)."""
        try:
            data = await self.call(lambda: self._c._get(f"/posts/{int(post_id)}.json"), f"GET /posts/{post_id}.json")
        except (ForumRejected, ForumAuthError) as exc:
            if getattr(exc, "status", None) in (403, 404):
                return None
            raise
        return data if isinstance(data, dict) else None

    async def private_message(self, title: str, raw: str, recipients: list[str]) -> dict[str, Any]:
        """Start a private message to users or groups (`target_recipients`); returns its first post."""
        names = ",".join(recipients)
        data = await self.call(
            lambda: self._c.create_post(
                raw, title=title, archetype="private_message", target_recipients=names
            ),
            "POST /posts (private message)",
        )
        if not isinstance(data, dict) or "topic_id" not in data:
            raise ForumUnavailable("POST /posts (private message): no post in the answer", answered=True)
        return data

    async def pending_posts(self, username: str) -> list[dict[str, Any]]:
        """The user's posts waiting in the review queue (`GET /posts/{username}/pending.json`)."""
        data = await self.call(
            lambda: self._c._get(f"/posts/{username}/pending.json"), f"GET /posts/{username}/pending.json"
        )
        return list((data or {}).get("pending_posts") or []) if isinstance(data, dict) else []


def is_enqueued(data: Any) -> bool:
    """True for Discourse's answer to a post held for approval (HTTP 200, no post id)."""
    return isinstance(data, dict) and data.get("action") == "enqueued"
