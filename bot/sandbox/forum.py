"""A small Discourse-API-compatible forum on loopback, for `farmhand demo` and the integration tests.

It speaks the slice of the Discourse API the adapter uses, with the same JSON shapes
and the exact `application/json; charset=utf-8` content type pydiscourse demands:

- GET  /session/current.json, /u/{username}.json      (start-up credential check)
- GET  /site.json, /categories.json
- GET  /posts.json?before=N           -> {"latest_posts": [...]}   (public posts, newest first, 50)
- GET  /private-posts.json?before=N   -> {"private_posts": [...]}  (PMs the API user is in)
- GET  /t/{id}.json                   -> topic with post_stream.posts and post_stream.stream
- GET  /t/{id}/posts.json?post_ids[]= -> {"post_stream": {"posts": [...]}}
- GET  /posts/{id}.json               -> one post (deleted ones to staff only, with deleted_at)
- POST /posts(.json)                  new topic, reply (topic_id, reply_to_post_number),
                                      or PM (archetype=private_message, target_recipients:
                                      usernames and group names; an unknown one is a 422)

Auth is the `Api-Key` / `Api-Username` header pair; a wrong key or unknown user gets 403
like Discourse. Test hooks: `inject()` queues 429s (JSON `extras.wait_seconds` or plain
text with `Retry-After`) and 5xx; `go_down()`/`come_up()` close and reopen the port;
`hold_posts(seconds)` stores a new post and then stalls the response (to kill a bot between
"posted" and "recorded"); `slow_posts(seconds, own_timeout=)` stores it only after `seconds`
(a slow POST that lands after the client's timeout), or never past its own timeout;
`trickle(method, path)` sends the headers and then one body byte a second; `send_webhooks_to(url, secret)` delivers signed `post_created`
and `post_edited` webhooks. What a real forum does that a friendly fake would not: post
types and staff-only whispers, admin/moderator PM views, group inboxes and flags, the
review queue (`enqueued`), 403s (closed topics, key scopes), edits, late posts and deleted
posts (`delete_post()`) — see
docs/discourse.md. It runs a stdlib threading HTTP server on its own thread; port 0 picks a free port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import select
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
PAGE_SIZE = 50
REGULAR, MODERATOR_ACTION, SMALL_ACTION, WHISPER = 1, 2, 3, 4  # Discourse's Post.types
GROUPS = ("moderators", "staff", "admins")  # the automatic groups a PM can be sent to
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)  # Discourse's sanitizer drops these from `cooked`


@dataclass(slots=True)
class Fault:
    kind: str  # "429json" | "429text" | "500" | "502" | "503"
    wait: float = 1.0
    path: str | None = None  # only requests whose path starts with this
    method: str | None = None
    topic_id: int | None = None  # only POSTs to this topic (a reply's form field `topic_id`)


@dataclass(slots=True)
class _Topic:
    id: int
    title: str
    category_id: int | None
    archetype: str  # "regular" | "private_message"
    allowed: set[str] = field(default_factory=set)
    post_ids: list[int] = field(default_factory=list)
    closed: bool = False
    archived: bool = False
    groups: set[str] = field(default_factory=set)  # group inboxes the PM was sent to
    created_by: str = ""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "topic"


class SandboxForum:
    """An in-memory forum with a real HTTP API on 127.0.0.1. Thread-safe."""

    def __init__(self, api_key: str = "sandbox-api-key", *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._topics: dict[int, _Topic] = {}
        self._posts: dict[int, dict[str, Any]] = {}
        self._next_post = 100
        self._next_topic = 10
        self._faults: list[Fault] = []
        self._hold_posts = 0.0
        self._slow_posts: tuple[float, float] | None = None  # (store after, the forum's own timeout)
        self._trickle: tuple[str, str, float] | None = None  # (method, path prefix, seconds per byte)
        self.trickles_open = 0  # trickled responses whose client is still connected
        self.trickles_max_open = 0
        self.trickle_lifetimes: list[float] = []  # seconds each trickled connection stayed open
        self._scopes: set[str] | None = None  # None: a Global key; else granular "resource:action"
        self._denied: list[tuple[str, str]] = []  # (method, path prefix) the API key may not use
        self._withheld: set[int] = set()  # post ids stored but not served yet (late arrivals)
        self._approval: set[str] = set()  # users whose new posts go to the review queue
        self._pending: dict[int, dict[str, Any]] = {}  # review queue: pending post id -> payload
        self._next_pending = 1
        self._webhook: tuple[str, str] | None = None
        self._event_id = 0
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.categories = [
            {"id": 4, "name": "Farming", "slug": "farming"},
            {"id": 5, "name": "Grid & deployments", "slug": "grid"},
            {"id": 6, "name": "General", "slug": "general"},
        ]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_user("system", admin=True)
        self._users["system"]["id"] = -1  # Discourse system users have ids <= 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxForum:
        """Listen (port 0: a free port, kept across go_down/come_up) and serve on a thread."""
        handler = _make_handler(self)
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-forum", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def go_down(self) -> None:
        """Close the port: clients get 'connection refused' until `come_up()`."""
        self.stop()

    def come_up(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            self.start()

    def __enter__(self) -> SandboxForum:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test hooks -----------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        count: int = 1,
        *,
        wait: float = 1.0,
        path: str | None = None,
        method: str | None = None,
        topic_id: int | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a 429 ("429json"/"429text") or a 5xx;
        `topic_id`: only replies posted to that topic (one unpostable topic)."""
        with self._lock:
            self._faults.extend(Fault(kind, wait, path, method, topic_id) for _ in range(count))

    def hold_posts(self, seconds: float) -> None:
        """Store new posts at once but answer POST /posts only after `seconds`."""
        self._hold_posts = seconds

    def slow_posts(self, store_after: float | None, *, own_timeout: float = 30.0) -> None:
        """Work `store_after` seconds on each POST /posts before storing it and answering (a busy
        forum), so a client with a shorter timeout gives up first and the post lands later. Past
        `own_timeout` (the forum's own request timeout: Discourse's app server kills a request
        after 30 s) the request is dropped at `own_timeout` and nothing is stored. None: off."""
        self._slow_posts = None if store_after is None else (store_after, own_timeout)

    def trickle(self, method: str | None, path: str = "", *, seconds_per_byte: float = 1.0) -> None:
        """Answer `method` requests under `path` with 200 and its headers at once, then the body
        one byte every `seconds_per_byte`, for as long as the client stays (or until turned
        off with None): the slow-loris of responses. `trickles_open`, `trickles_max_open` and
        `trickle_lifetimes` say how the client coped."""
        with self._lock:
            self._trickle = None if method is None else (method, path, seconds_per_byte)

    def _trickling(self, method: str, path: str) -> float | None:
        spec = self._trickle
        if spec is None or spec[0] != method or not path.startswith(spec[1]):
            return None
        return spec[2]

    def _serve_trickle(self, conn: Any, wfile: Any, every: float) -> None:
        """Headers now, then a byte per `every` seconds until the client closes or it is turned off."""
        started = time.monotonic()
        with self._lock:
            self.trickles_open += 1
            self.trickles_max_open = max(self.trickles_max_open, self.trickles_open)
        try:
            wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: " + JSON_TYPE.encode() + b"\r\nContent-Length: 1000000\r\n\r\n"
            )
            wfile.flush()
            while self._trickle is not None:
                readable, _, _ = select.select([conn], [], [], every)
                if readable and not conn.recv(1, socket.MSG_PEEK):
                    break  # the client hung up
                wfile.write(b" ")
                wfile.flush()
        except OSError:
            pass  # reset by the client
        finally:
            with self._lock:
                self.trickles_open -= 1
                self.trickle_lifetimes.append(time.monotonic() - started)

    def deny(self, method: str, path: str) -> None:
        """Answer 403 `invalid_access` to `method` requests under `path`, as Discourse does for
        an API key whose scopes do not cover the route."""
        with self._lock:
            self._denied.append((method, path))

    def key_scopes(self, scopes: list[str] | None) -> None:
        """Make the API key granular (Discourse's ApiKeyScope): "global:read" (every GET),
        "topics:write" (POST /posts), "topics:read" (/t/{id}.json, /t/{id}/posts.json),
        "users:show" (/u/{name}.json), "categories:list" (/categories.json). A request no
        scope covers gets 403 invalid_access. None: a Global key again."""
        with self._lock:
            self._scopes = None if scopes is None else set(scopes)

    def _scope_allows(self, method: str, path: str) -> bool:
        scopes = self._scopes
        if scopes is None:
            return True
        if method == "GET" and "global:read" in scopes:
            return True
        if method == "POST" and path in ("/posts", "/posts.json"):
            return "topics:write" in scopes
        checks = {
            "topics:read": r"/t/(?:[^/]+/)?\d+(?:/posts)?\.json",
            "users:show": r"/u/[^/]+\.json",
            "categories:list": r"/categories\.json",
        }
        return method == "GET" and any(s in scopes and re.fullmatch(rx, path) for s, rx in checks.items())

    def close_topic(self, topic_id: int, *, archived: bool = False) -> None:
        """Close (or archive) a topic: only moderators, admins and TL4 users may still post (403 otherwise)."""
        with self._lock:
            topic = self._topics[topic_id]
            topic.closed, topic.archived = True, archived or topic.archived

    def set_role(self, username: str, *, moderator: bool = False, admin: bool = False) -> None:
        """Change a user's staff flags."""
        with self._lock:
            user = self._users[username]
            user.update(moderator=moderator, admin=admin, staff=moderator or admin)

    def require_approval(self, username: str, on: bool = True) -> None:
        """Hold `username`'s new posts for approval: POST /posts answers 200
        `{"action": "enqueued", "pending_post": {...}}` with no post id, as Discourse does."""
        with self._lock:
            (self._approval.add if on else self._approval.discard)(username)

    def pending(self) -> list[dict[str, Any]]:
        """The review queue, oldest first."""
        with self._lock:
            return [dict(p) for _, p in sorted(self._pending.items())]

    def approve(self, pending_id: int) -> dict[str, Any]:
        """Approve a queued post: it becomes a real post (with a new id); returns it."""
        with self._lock:
            p = self._pending.pop(pending_id)
            reply_to = p["reply_to_post_number"]
            return self._add_post(self._topics[p["topic_id"]], p["username"], p["raw_text"], reply_to)

    def send_webhooks_to(self, url: str | None, secret: str = "") -> None:
        """Deliver a signed `post_created` webhook for each new post (None: stop)."""
        self._webhook = (url, secret) if url else None

    # -- data -----------------------------------------------------------------------------

    def add_user(self, username: str, *, moderator: bool = False, admin: bool = False) -> dict[str, Any]:
        """Create a user (idempotent)."""
        with self._lock:
            if username not in self._users:
                self._users[username] = {
                    "id": len(self._users) + 1,
                    "username": username,
                    "name": username.title(),
                    "moderator": moderator,
                    "admin": admin,
                    "staff": moderator or admin,
                    "avatar_template": f"/letter_avatar/{username}/{{size}}/1.png",
                }
            return dict(self._users[username])

    def create_topic(
        self,
        username: str,
        title: str,
        raw: str,
        *,
        category_id: int | None = None,
        private_to: list[str] | None = None,
        private_to_groups: list[str] | None = None,
    ) -> dict[str, Any]:
        """Open a topic (or a PM when `private_to` names users or `private_to_groups` group
        inboxes, e.g. "moderators"); returns its first post."""
        with self._lock:
            self.add_user(username)
            pm = bool(private_to or private_to_groups)
            topic = _Topic(
                id=self._next_topic,
                title=title,
                category_id=None if pm else (category_id or self.categories[0]["id"]),
                archetype="private_message" if pm else "regular",
                allowed={username, *(private_to or [])},
                groups=set(private_to_groups or []),
                created_by=username,
            )
            self._next_topic += 1
            self._topics[topic.id] = topic
            return self._add_post(topic, username, raw, None)

    def flag(
        self, username: str, post_id: int, message: str, *, kind: str = "notify_moderators"
    ) -> dict[str, Any]:
        """Flag a post the way Discourse does for "notify moderators" (a PM from the flagger to
        the `moderators` group inbox) or "send @author a message" (`notify_user`: a PM from the
        flagger to the post's author); the body is the message, a blank line and the post's
        URL. Returns the PM's first post."""
        with self._lock:
            post = self._posts[post_id]
            topic = self._topics[post["topic_id"]]
            link = f"{self.url}/t/{_slug(topic.title)}/{topic.id}/{post['post_number']}"
            body = f"{message}\n\n{link}"
            if kind == "notify_user":
                title = f'Your post in "{topic.title}"'
                return self.create_topic(username, title, body, private_to=[post["username"]])
            title = f'A post in "{topic.title}" requires staff attention'
            return self.create_topic(username, title, body, private_to_groups=["moderators"])

    def reply(
        self,
        username: str,
        topic_id: int,
        raw: str,
        *,
        reply_to_post_number: int | None = None,
        post_type: int = REGULAR,
    ) -> dict[str, Any]:
        """Add a post to a topic; returns it. `post_type`: 1 regular, 2 moderator action,
        3 small action, 4 whisper (only staff can see whispers, as in Discourse)."""
        with self._lock:
            self.add_user(username)
            return self._add_post(self._topics[topic_id], username, raw, reply_to_post_number, post_type)

    def _add_post(
        self, topic: _Topic, username: str, raw: str, reply_to: int | None, post_type: int = 1
    ) -> dict[str, Any]:
        user = self._users[username]
        now = _now_iso()
        post = {
            "id": self._next_post,
            "name": user["name"],
            "username": username,
            "avatar_template": user["avatar_template"],
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "cooked": _cook(raw),
            "raw": raw,
            "post_number": len(topic.post_ids) + 1,
            "post_type": post_type,
            "reply_to_post_number": reply_to,
            "topic_id": topic.id,
            "topic_slug": _slug(topic.title),
            "topic_title": topic.title,
            "topic_html_title": topic.title,
            "topic_archetype": topic.archetype,
            "category_id": topic.category_id,
            "user_id": user["id"],
            "moderator": user["moderator"],
            "admin": user["admin"],
            "staff": user["staff"],
            "hidden": False,
            "deleted_at": None,
        }
        self._next_post += 1
        topic.post_ids.append(post["id"])
        self._posts[post["id"]] = post
        if self._webhook is not None:
            url, secret = self._webhook
            threading.Thread(target=self._deliver, args=(url, secret, dict(post)), daemon=True).start()
        return dict(post)

    def withhold(self, post_id: int) -> None:
        """Stop serving a post in /posts.json and /private-posts.json until `publish()`: it
        will appear later with an id below posts the bot has already seen, like a post
        approved from the review queue, unhidden, or committed by a slow transaction."""
        with self._lock:
            self._withheld.add(post_id)

    def publish(self, post_id: int) -> None:
        """Serve a withheld post (its id is unchanged, now below the bot's cursor)."""
        with self._lock:
            self._withheld.discard(post_id)

    def edit(self, post_id: int, raw: str) -> dict[str, Any]:
        """Edit a post as its author: new raw and cooked, `version` + 1, `updated_at` now, and a
        `post_edited` webhook (same payload shape as `post_created`). The id does not change."""
        with self._lock:
            post = self._posts[post_id]
            post.update(raw=raw, cooked=_cook(raw), version=post["version"] + 1, updated_at=_now_iso())
            if self._webhook is not None:
                url, secret = self._webhook
                args = (url, secret, dict(post), "post_edited")
                threading.Thread(target=self._deliver, args=args, daemon=True).start()
            return dict(post)

    def delete_post(self, post_id: int, by: str = "maria_mod") -> None:
        """Delete a post as Discourse does for a moderator (or its author): `deleted_at` and
        `deleted_by` set; gone from /posts.json and /private-posts.json; still served, marked,
        to staff in /t/{id}.json and /posts/{id}.json, a 404 there for everyone else."""
        with self._lock:
            post = self._posts[post_id]
            post["deleted_at"] = _now_iso()
            post["deleted_by"] = self._basic_user(by) if by in self._users else None

    def posts(self, *, topic_id: int | None = None, username: str | None = None) -> list[dict[str, Any]]:
        """Posts in id order, optionally of one topic and/or one author."""
        with self._lock:
            out = [dict(p) for _, p in sorted(self._posts.items())]
        return [
            p
            for p in out
            if (topic_id is None or p["topic_id"] == topic_id)
            and (username is None or p["username"] == username)
        ]

    def topic_of(self, post_id: int) -> int:
        """The topic id of a post."""
        return int(self._posts[post_id]["topic_id"])

    def webhook_payload(self, post: dict[str, Any]) -> bytes:
        """The body Discourse sends for `post_created`."""
        return json.dumps({"post": post}).encode()

    def _deliver(self, url: str, secret: str, post: dict[str, Any], event: str = "post_created") -> None:
        body = self.webhook_payload(post)
        with self._lock:
            self._event_id += 1
            event_id = self._event_id
        sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(  # noqa: S310 (loopback URL given by the test or demo)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Discourse-Instance": self.url,
                "X-Discourse-Event-Id": str(event_id),
                "X-Discourse-Event-Type": "post",
                "X-Discourse-Event": event,
                "X-Discourse-Event-Signature": f"sha256={sig}",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
                resp.read()
        except OSError as exc:
            log.debug("sandbox webhook delivery failed: %s", exc)

    # -- request handling (called from server threads) ------------------------------------

    def _take_fault(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        topic: int | None = None
        if method == "POST" and any(f.topic_id is not None for f in list(self._faults)):
            value = (parse_qs(body.decode("utf-8", "replace")).get("topic_id") or [""])[0]
            topic = int(value) if value.isdigit() else None
        with self._lock:
            for i, f in enumerate(self._faults):
                if (
                    (f.path is None or path.startswith(f.path))
                    and (f.method is None or f.method == method)
                    and (f.topic_id is None or f.topic_id == topic)
                ):
                    return self._faults.pop(i)
        return None

    def _auth(self, headers: Any) -> dict[str, Any] | None:
        key = headers.get("Api-Key", "")
        user = self._users.get(headers.get("Api-Username", ""))
        if not hmac.compare_digest(key.encode(), self.api_key.encode()) or user is None:
            return None
        return user

    def _in_group(self, user: dict[str, Any], group: str) -> bool:
        return (group in ("moderators", "staff") and bool(user["staff"])) or (
            group == "admins" and bool(user["admin"])
        )

    def _visible(self, topic: _Topic, user: dict[str, Any]) -> bool:
        """Discourse: a PM is visible to its users, to members of its group inboxes, and to every admin."""
        return (
            topic.archetype != "private_message"
            or user["username"] in topic.allowed
            or any(self._in_group(user, g) for g in topic.groups)
            or bool(user["admin"])
        )

    def _basic_user(self, username: str) -> dict[str, Any]:
        u = self._users[username]
        return {k: u[k] for k in ("id", "username", "name", "avatar_template")}

    def _details(self, topic: _Topic) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for i in topic.post_ids:
            counts[self._posts[i]["username"]] = counts.get(self._posts[i]["username"], 0) + 1
        details: dict[str, Any] = {
            "created_by": self._basic_user(topic.created_by) if topic.created_by else None,
            "participants": [{**self._basic_user(n), "post_count": c} for n, c in counts.items()],
        }
        if topic.archetype == "private_message":
            details["allowed_users"] = [self._basic_user(n) for n in sorted(topic.allowed)]
            details["allowed_groups"] = [
                {"id": 40 + i, "name": g} for i, g in enumerate(sorted(topic.groups))
            ]
        return details

    def _post_visible(self, post: dict[str, Any], user: dict[str, Any]) -> bool:
        """Whispers and deleted posts are served to staff only (Discourse's default whisperers)."""
        if post.get("deleted_at") and not user["staff"]:
            return False
        return post["post_type"] != WHISPER or bool(user["staff"])

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Route one request; returns (status, headers, body)."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        fault = self._take_fault(method, path, body)
        if fault is not None:
            return _fault_response(fault)
        user = self._auth(headers)
        if user is None:
            return _json(
                403,
                {
                    "errors": [
                        "You are not permitted to view the requested resource. "
                        "The API username or key is invalid."
                    ],
                    "error_type": "invalid_access",
                },
            )
        if not self._scope_allows(method, path) or any(
            method == m and path.startswith(p) for m, p in list(self._denied)
        ):
            return _forbidden()
        slow = self._slow_posts
        if slow is not None and method == "POST" and path in ("/posts", "/posts.json"):
            store_after, own_timeout = slow
            time.sleep(min(store_after, own_timeout))
            if store_after > own_timeout:
                return 503, {"Content-Type": "text/html"}, b"<html><body>Request timed out</body></html>"
        with self._lock:
            if method == "GET":
                return self._get(path, query, user)
            if method == "POST" and path in ("/posts", "/posts.json"):
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                status, hdrs, out = self._create(form, user)
            else:
                return _json(404, {"errors": ["The requested URL or resource could not be found."]})
        if self._hold_posts and status == 200:
            time.sleep(self._hold_posts)  # the post exists; the client just doesn't know yet
        return status, hdrs, out

    def _get(
        self, path: str, query: dict[str, list[str]], user: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        if path == "/session/current.json":
            return _json(200, {"current_user": user})
        if m := re.fullmatch(r"/u/([^/]+)\.json", path):
            other = self._users.get(m.group(1))
            return _json(200, {"user": other}) if other else _not_found()
        if m := re.fullmatch(r"/posts/([^/]+)/pending\.json", path):
            if m.group(1) != user["username"] and not user["staff"]:
                return _json(403, {"errors": ["You are not permitted to view the requested resource."]})
            keep = ("id", "username", "name", "avatar_template", "created_by_id", "created_at", "raw_text")
            keep += ("title", "topic_id", "topic_url", "category_id")
            rows = [
                {k: p[k] for k in keep}
                for _, p in sorted(self._pending.items())
                if p["username"] == m.group(1)
            ]
            return _json(200, {"pending_posts": rows})
        if m := re.fullmatch(r"/posts/(\d+)\.json", path):
            post = self._posts.get(int(m.group(1)))
            if post is None or not self._visible(self._topics[post["topic_id"]], user):
                return _not_found()
            return _json(200, post) if self._post_visible(post, user) else _not_found()
        if path == "/site.json":
            return _json(200, {"categories": self.categories})
        if path == "/categories.json":
            return _json(200, {"category_list": {"categories": self.categories}})
        if path in ("/posts.json", "/private-posts.json"):
            private = path == "/private-posts.json"
            before = int(query.get("before", ["0"])[0] or 0)
            rows = []
            for pid in sorted(self._posts, reverse=True):
                if (before and pid >= before) or pid in self._withheld or self._posts[pid].get("deleted_at"):
                    continue
                topic = self._topics[self._posts[pid]["topic_id"]]
                is_pm = topic.archetype == "private_message"
                if is_pm != private or (private and not self._visible(topic, user)):
                    continue
                if not self._post_visible(self._posts[pid], user):
                    continue
                rows.append(self._posts[pid])
                if len(rows) >= PAGE_SIZE:
                    break
            return _json(200, {"private_posts" if private else "latest_posts": rows})
        if m := re.fullmatch(r"/t/(?:[^/]+/)?(\d+)\.json", path):
            topic = self._topics.get(int(m.group(1)))
            if topic is None or not self._visible(topic, user):
                return _not_found()
            posts = [self._posts[i] for i in topic.post_ids if self._post_visible(self._posts[i], user)]
            return _json(
                200,
                {
                    "id": topic.id,
                    "title": topic.title,
                    "archetype": topic.archetype,
                    "category_id": topic.category_id,
                    "closed": topic.closed,
                    "archived": topic.archived,
                    "details": self._details(topic),
                    "posts_count": len(posts),
                    "post_stream": {"posts": _topic_posts(posts[:20], query), "stream": [p["id"] for p in posts]},
                },
            )
        if m := re.fullmatch(r"/t/(\d+)/posts\.json", path):
            topic = self._topics.get(int(m.group(1)))
            if topic is None or not self._visible(topic, user):
                return _not_found()
            wanted = {int(x) for x in query.get("post_ids[]", []) if x.isdigit()}
            ids = [
                i
                for i in topic.post_ids
                if (not wanted or i in wanted) and self._post_visible(self._posts[i], user)
            ]
            served = _topic_posts([self._posts[i] for i in ids], query)
            return _json(200, {"id": topic.id, "post_stream": {"posts": served}})
        return _not_found()

    def _enqueue(self, topic: _Topic, user: dict[str, Any], raw: str, reply_to: int | None) -> dict[str, Any]:
        pending = {
            "id": self._next_pending,
            "username": user["username"],
            "name": user["name"],
            "avatar_template": user["avatar_template"],
            "created_by_id": user["id"],
            "created_at": _now_iso(),
            "raw_text": raw,
            "title": topic.title,
            "topic_id": topic.id,
            "topic_url": f"/t/{_slug(topic.title)}/{topic.id}",
            "category_id": topic.category_id,
            "reply_to_post_number": reply_to,  # kept for approve(); not served
        }
        self._next_pending += 1
        self._pending[pending["id"]] = pending
        return {
            "action": "enqueued",
            "pending_post": {"id": pending["id"], "raw": raw, "created_at": pending["created_at"]},
            "pending_count": sum(1 for p in self._pending.values() if p["username"] == user["username"]),
            "reason": "new_user",
            "success": True,
        }

    def _create(self, form: dict[str, list[str]], user: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        def one(name: str) -> str:
            return (form.get(name) or [""])[0]

        raw = one("raw")
        if len(raw.strip()) < 2:
            return _json(422, {"errors": ["Body is too short (minimum is 2 characters)"]})
        if one("topic_id"):
            topic = self._topics.get(int(one("topic_id")) if one("topic_id").isdigit() else -1)
            if topic is None or not self._visible(topic, user):
                return _not_found()
            if (topic.closed or topic.archived) and not user["staff"]:
                return _forbidden()  # Guardian#can_create_post_on_topic?: closed/archived need a moderator
            reply_to = one("reply_to_post_number")
            if user["username"] in self._approval:
                return _json(
                    200, self._enqueue(topic, user, raw, int(reply_to) if reply_to.isdigit() else None)
                )
            # Discourse: `whisper=true` makes a whisper only for staff; anyone else silently
            # gets a regular, public post.
            kind = WHISPER if one("whisper") == "true" and user["staff"] else REGULAR
            post = self._add_post(
                topic, user["username"], raw, int(reply_to) if reply_to.isdigit() else None, kind
            )
            return _json(200, post)
        title = one("title")
        if len(title.strip()) < 5:
            return _json(422, {"errors": ["Title is too short (minimum is 5 characters)"]})
        if one("archetype") == "private_message":
            names = [n.strip() for n in (one("target_recipients") or one("target_usernames")).split(",")]
            recipients = [n for n in names if n in self._users]
            groups = [n for n in names if n in GROUPS and n not in self._users]
            unknown = [n for n in names if n and n not in recipients and n not in groups]
            if unknown or not (recipients or groups):
                return _json(422, {"errors": ["You must choose a valid user."]})
            return _json(
                200,
                self.create_topic(
                    user["username"], title, raw, private_to=recipients, private_to_groups=groups
                ),
            )
        cat = one("category")
        return _json(
            200,
            self.create_topic(user["username"], title, raw, category_id=int(cat) if cat.isdigit() else None),
        )


def _cook(raw: str) -> str:
    """A stand-in for Discourse's cooking: HTML comments never reach `cooked` (its sanitizer
    drops them), so a marker in a comment lives in `raw` only."""
    return f"<p>{HTML_COMMENT.sub('', raw).strip()}</p>"


def _topic_posts(posts: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Posts as `/t/...` serves them: `raw` only with `include_raw` (Discourse's PostSerializer
    adds it only then), `cooked` always."""
    if (query.get("include_raw") or [""])[0] in ("true", "1"):
        return posts
    return [{k: v for k, v in p.items() if k != "raw"} for p in posts]


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": JSON_TYPE}, json.dumps(payload).encode()


def _forbidden() -> tuple[int, dict[str, str], bytes]:
    return _json(
        403,
        {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"},
    )


def _not_found() -> tuple[int, dict[str, str], bytes]:
    return _json(
        404, {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}
    )


def _fault_response(f: Fault) -> tuple[int, dict[str, str], bytes]:
    if f.kind == "429json":
        status, hdrs, body = _json(
            429,
            {
                "errors": ["You've performed this action too many times. Please wait a few seconds."],
                "error_type": "rate_limit",
                "extras": {"wait_seconds": f.wait, "time_left": f"{f.wait} seconds"},
            },
        )
        hdrs["Discourse-Rate-Limit-Error-Code"] = "ip_10_secs_limit"
        return status, hdrs, body
    if f.kind == "429text":
        return (
            429,
            {"Content-Type": "text/plain", "Retry-After": str(int(f.wait))},
            b"Slow down, too Many Requests",
        )
    status = int(f.kind) if f.kind.isdigit() else 500
    return status, {"Content-Type": "text/html"}, b"<html><body>Internal Server Error</body></html>"


def _make_handler(forum: SandboxForum) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            every = forum._trickling(self.command, urlsplit(self.path).path)
            if every is not None:
                self.close_connection = True
                forum._serve_trickle(self.connection, self.wfile, every)
                return
            try:
                status, headers, out = forum.handle(self.command, self.path, self.headers, body)
            except Exception:  # the sandbox must answer, not drop the connection
                log.exception("sandbox forum failed on %s %s", self.command, self.path)
                status, headers, out = _json(500, {"errors": ["sandbox error"]})
            with forum._lock:
                forum.requests.append((self.command, urlsplit(self.path).path, status))
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (its timeout): nothing to tell it

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            log.debug("sandbox: " + format, *args)

    return Handler
