"""A local fake Discord for end-to-end tests: REST routes and a websocket gateway on loopback.

The real discord.py client talks to it through `discord.api_base`: it logs in with
GET /users/@me and /applications/@me, asks GET /gateway/bot for the gateway URL, then
speaks the gateway protocol (HELLO op 10, IDENTIFY op 2 -> READY + GUILD_CREATE,
HEARTBEAT op 1 -> ACK op 11, RESUME op 6 -> replayed events + RESUMED). Frames go out
as JSON text: discord.py only inflates binary frames, so the `compress=zlib-stream`
it asks for in the URL query is recorded and otherwise ignored.

Everything the bot writes (messages, interaction callbacks, follow-ups, reactions,
deletions, command syncs) is kept in `FakeDiscord.writes` so tests can assert on it.

Like Discord, it refuses (and keeps in `FakeDiscord.refused` instead of `writes`):
- a message over 2,000 characters, an empty one, more than 10 embeds, or an embed over
  any of its limits (title 256, description 4,096, 25 fields, field name 256, field
  value 1,024, footer 2,048, author 256, 6,000 in total across the message's embeds):
  400 code 50035 (50006 for an empty message);
- an interaction callback later than `interaction_deadline` (3 s) after the
  INTERACTION_CREATE: 404 code 10062 "Unknown interaction";
- a second callback for the same interaction: 400 code 40060 "Interaction has already
  been acknowledged";
- follow-ups and edits of `@original` before the interaction was acknowledged: 404 code
  10015 "Unknown Webhook";
- message components over Discord's limits (5 action rows, 5 buttons or one select per row,
  custom ids of 1 to 100 characters and unique within the message, labels of 80, at most 25
  select options), and an UPDATE_MESSAGE / DEFERRED_UPDATE_MESSAGE callback (types 7, 6)
  for an interaction that does not come from a message component: 400 code 50035;
- an edit (PATCH) of a message that does not exist: 404 code 10008.
Component interactions (`component_interaction()`) carry the message they come from; an
UPDATE_MESSAGE callback, or an edit of `@original` after a deferred update, changes that
message, as a PATCH of /channels/{id}/messages/{id} does.
As Discord still does (deprecated), the first follow-up after a deferral (type 5) edits
the loading message instead of posting a new one; `followups_edited_loading` lists the
interactions where that happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

GUILD_ID = 900_000_000_000_000_001
BOT_ID = 900_000_000_000_000_010
APP_ID = BOT_ID
OWNER_ID = 900_000_000_000_000_011
MOD_ROLE_ID = 900_000_000_000_000_020
EVERYONE_ROLE_ID = GUILD_ID
WATCHED_ID = 900_000_000_000_000_100  # text channel
UNWATCHED_ID = 900_000_000_000_000_101  # text channel
FORUM_ID = 900_000_000_000_000_102  # forum channel
TRIAGE_ID = 900_000_000_000_000_103  # text channel for moderators (triage)
TOKEN = "fake-token"
TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"

# Permission bits used below (discord.Permissions): view_channel, send_messages,
# send_messages_in_threads, embed_links, attach_files, read_message_history, add_reactions.
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6)
MANAGE_MESSAGES = 1 << 13

# Discord's limits, written down here independently of the bot's own copy (bot/discord/limits.py)
# so that a wrong limit in the bot makes a test fail.
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
EMBED_TEXT_MAX = {"title": 256, "description": 4096}
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
INTERACTION_DEADLINE = 3.0
ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A Discord user object."""
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "flags": 0,
        "public_flags": 0,
    }


def member_payload(user: dict[str, Any], roles: tuple[int, ...] = ()) -> dict[str, Any]:
    """A guild member object (with its user)."""
    return {
        "user": user,
        "roles": [str(r) for r in roles],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "communication_disabled_until": None,
    }


@dataclass(slots=True)
class Write:
    """One state-changing REST call the bot made."""

    method: str
    path: str
    body: dict[str, Any] | None
    query: dict[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body only when the content type is exactly application/json
    # (no charset), as Discord sends it.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


class FakeDiscord:
    """The fake: start() it, connect a bot to `api_base`, then `dispatch()` events and read `writes`."""

    def __init__(
        self,
        *,
        refuse_intents: bool = False,
        token: str = TOKEN,
        unavailable: int = 0,
        close_identify: int = 0,
    ) -> None:
        self.token = token
        self.unavailable = unavailable  # answer this many REST calls with 503, like an outage
        self.close_identify = close_identify  # close this many IDENTIFYs with 4000 (resumable), like a hiccup
        self.gateway_token = token  # the gateway closes with 4004 for any other token
        self.refuse_intents = refuse_intents  # close with 4014 like Discord when Message Content is off
        self.writes: list[Write] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.command_puts = 0
        self.commands: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self.messages: dict[int, dict[str, Any]] = {}  # every message by id, to serve GET
        self.channels: dict[int, dict[str, Any]] = {}
        self.attachments: dict[str, bytes] = {}
        self.downloads: list[str] = []  # attachment keys the bot fetched
        self._ids = itertools.count(950_000_000_000_000_000)
        self._seq = 0
        self._sessions = 0  # READYs sent
        self._sent: list[dict[str, Any]] = []  # dispatches, for RESUME replays
        self._ws: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.port = 0
        self.interaction_deadline = INTERACTION_DEADLINE
        self.refused: list[tuple[Write, int]] = []  # what Discord would refuse, with its error code
        self.trickle_messages = False  # POST .../messages: headers, then a byte every 50 ms
        self.trickle_lifetimes: list[float] = []  # seconds each trickled answer's client stayed
        self.interactions: dict[str, dict[str, Any]] = {}  # by id: token, dispatched, acked kind
        self.followups_edited_loading: list[str] = []
        self.bot_user = user_payload(BOT_ID, "farmhand", bot=True)
        self.roles = [
            {
                "id": str(EVERYONE_ROLE_ID),
                "name": "@everyone",
                "permissions": str(MEMBER_PERMS),
                "position": 0,
            },
            {"id": str(MOD_ROLE_ID), "name": "Moderators", "permissions": str(MEMBER_PERMS), "position": 1},
        ]
        for role in self.roles:
            role.update(
                color=0, colors={"primary_color": 0}, hoist=False, managed=False, mentionable=True, flags=0
            )
        for cid, name, kind in (
            (WATCHED_ID, "farming-help", 0),
            (UNWATCHED_ID, "off-topic", 0),
            (FORUM_ID, "questions", 15),
            (TRIAGE_ID, "moderators", 0),
        ):
            self.channels[cid] = self._channel(cid, name, kind)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1, on `port` (0: any free one)."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{key}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- building payloads ---------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def _channel(self, cid: int, name: str, kind: int, parent: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(cid),
            "type": kind,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None if parent is None else str(parent),
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if kind == 15:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data

    def add_attachment(
        self, filename: str, content: bytes, content_type: str = "text/plain", *, size: int | None = None
    ) -> dict[str, Any]:
        """Host a file and return the attachment object that points at it (`size`: the size Discord
        announces, when a test wants a big file without hosting it)."""
        aid = self.next_id()
        key = f"{aid}-{filename}"
        self.attachments[key] = content
        url = f"http://127.0.0.1:{self.port}/attachments/{key}"
        return {
            "id": str(aid),
            "filename": filename,
            "size": len(content) if size is None else size,
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    def message(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str,
        *,
        roles: tuple[int, ...] = (),
        guild: bool = True,
        attachments: list[dict[str, Any]] | None = None,
        message_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload (kept for GET /channels/{id}/messages); `reply_to` makes it a reply."""
        mid = message_id if message_id is not None else self.next_id()
        data: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments or [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }
        if reply_to is not None:
            data["type"] = 19
            data["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
            }
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = {k: v for k, v in member_payload(author, roles).items() if k != "user"}
        self.messages[mid] = data
        return data

    def forum_post(
        self, author: dict[str, Any], title: str, content: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new forum post: the THREAD_CREATE payload and its starter MESSAGE_CREATE (same id)."""
        tid = self.next_id()
        thread = self._channel(tid, title, 11, parent=FORUM_ID)
        thread.update(
            owner_id=author["id"],
            member_count=1,
            message_count=1,
            newly_created=True,
            thread_metadata={
                "archived": False,
                "auto_archive_duration": 4320,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
                "create_timestamp": TIMESTAMP,
            },
            applied_tags=[],
        )
        self.channels[tid] = thread
        return thread, self.message(tid, author, content, message_id=tid)

    def interaction(
        self,
        name: str,
        user: dict[str, Any],
        *,
        options: list[dict[str, Any]] | None = None,
        resolved: dict[str, Any] | None = None,
        command_type: int = 1,
        target_id: int | None = None,
        roles: tuple[int, ...] = (),
        permissions: int = MEMBER_PERMS,
        channel_id: int = WATCHED_ID,
        interaction_type: int = 2,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for an application command (or autocomplete: type 4)."""
        cmd = next((c for c in self.commands if c["name"] == name), None)
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else str(self.next_id()),
            "name": name,
            "type": command_type,
            "options": options or [],
            "resolved": resolved or {},
        }
        if target_id is not None:
            data["target_id"] = str(target_id)
        member = member_payload(user, roles)
        member["permissions"] = str(permissions)
        iid = self.next_id()
        return {
            "id": str(iid),
            "application_id": str(APP_ID),
            "type": interaction_type,
            "data": data,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": self.channels[channel_id]["type"]},
            "member": member,
            "token": f"itoken-{iid}",
            "version": 1,
            "app_permissions": str(MEMBER_PERMS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "attachment_size_limit": 25 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
        }

    def component_interaction(
        self,
        message_id: int,
        custom_id: str,
        user: dict[str, Any],
        *,
        roles: tuple[int, ...] = (),
        values: list[str] | None = None,
        permissions: int = MEMBER_PERMS,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE (type 3) for a press on a button, or a choice in a select (`values`),
        of a message the fake knows (its channel and content come with it, as from Discord)."""
        msg = self.messages[message_id]
        channel_id = int(msg["channel_id"])
        known = [
            c
            for row in msg.get("components") or []
            for c in row.get("components", [])
            if c.get("custom_id") == custom_id
        ]
        assert known, f"message {message_id} has no component {custom_id!r}"
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": known[0]["type"]}
        if values is not None:
            data["values"] = values
        member = member_payload(user, roles)
        member["permissions"] = str(permissions)
        iid = self.next_id()
        return {
            "id": str(iid),
            "application_id": str(APP_ID),
            "type": 3,
            "data": data,
            "message": msg,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": self.channels[channel_id]["type"]},
            "member": member,
            "token": f"itoken-{iid}",
            "version": 1,
            "app_permissions": str(MEMBER_PERMS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "attachment_size_limit": 25 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
        }

    def _guild(self) -> dict[str, Any]:
        return {
            "id": str(GUILD_ID),
            "name": "ThreeFold",
            "icon": None,
            "owner_id": str(OWNER_ID),
            "roles": self.roles,
            "channels": [c for c in self.channels.values() if c["type"] != 11],
            "threads": [],
            "members": [member_payload(self.bot_user)],
            "member_count": 4,
            "large": False,
            "unavailable": False,
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "joined_at": TIMESTAMP,
        }

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one DISPATCH (op 0) to the connected bot."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._sent.append(frame)
        if event == "INTERACTION_CREATE":
            self.register_interaction(data)
        assert self._ws is not None, "no bot connected"
        await self._ws.send_str(json.dumps(frame))

    def register_interaction(self, data: dict[str, Any]) -> None:
        """Start an interaction's 3-second clock (dispatch() does this; a replay keeps the first)."""
        self.interactions.setdefault(
            data["id"],
            {
                "token": data["token"],
                "dispatched": time.monotonic(),
                "acked": None,
                "original_edited": False,
                "type": data.get("type"),
                "message_id": (data.get("message") or {}).get("id"),
                "channel_id": int(data.get("channel_id") or 0),
            },
        )

    async def reconnect_with_replay(self, replay_last: int) -> None:
        """Drop the gateway (code 4000, resumable); on RESUME, replay the last N events again."""
        self._replay = self._sent[-replay_last:]
        self.ready.clear()
        assert self._ws is not None
        await self._ws.close(code=4000, message=b"fake reconnect")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.gateway_queries.append(dict(request.query))
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op, d = frame.get("op"), frame.get("d")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif op == 2:
                await self._identify(ws, d)
            elif op == 6:
                self.resumes.append(d)
                if not self._sessions:  # no READY ever sent: nothing to resume, like Discord
                    await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                    continue
                for old in getattr(self, "_replay", []):
                    await self.dispatch(old["t"], old["d"])
                await self.dispatch("RESUMED", {})
                self.ready.set()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        self.identify_payloads.append(d)
        if self.close_identify > 0:
            self.close_identify -= 1
            await ws.close(code=4000, message=b"Unknown error.")
            return
        if d.get("token") != self.gateway_token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if self.refuse_intents and d.get("intents", 0) & (1 << 15):
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                "session_id": "fake-session",
                "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                "application": {"id": str(APP_ID), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        self._sessions += 1
        await self.dispatch("GUILD_CREATE", self._guild())
        self.ready.set()

    # -- REST ----------------------------------------------------------------------------------

    async def _attachment(self, request: web.Request) -> web.Response:
        self.downloads.append(request.match_info["key"])
        data = self.attachments.get(request.match_info["key"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")

    async def wait_for_writes(self, count: int, timeout: float = 5.0) -> list[Write]:
        """Wait until at least `count` writes happened (command syncs not counted)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.posts()) >= count), timeout)
        return self.posts()

    def posts(self) -> list[Write]:
        """Writes that post or change content (everything but command syncs)."""
        return [w for w in self.writes if "/commands" not in w.path]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        if self.unavailable > 0:
            self.unavailable -= 1
            return _json({"message": "503: Service Unavailable", "code": 0}, status=503)
        # Interaction callbacks and webhook follow-ups authenticate by the token in the URL.
        needs_auth = not path.startswith(("/webhooks/", "/interactions/"))
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        body: dict[str, Any] | None = None
        if request.can_read_body:
            if request.content_type.startswith("multipart/"):
                body = await self._multipart(request)
            else:
                raw = await request.read()
                body = json.loads(raw) if raw else None
        if self.trickle_messages and request.method == "POST" and path.endswith("/messages"):
            return await self._trickle(request)
        if request.method != "GET":
            write = Write(request.method, path, body, dict(request.query))
            refusal = self._refusal(request.method, path, body)
            if refusal is not None:
                status, payload = refusal
                self.refused.append((write, payload["code"]))
                async with self._changed:
                    self._changed.notify_all()
                return _json(payload, status=status)
            self.writes.append(write)
            async with self._changed:
                self._changed.notify_all()
        return self._route(request.method, path, body, dict(request.query))

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """A slow-loris answer: 200 and its headers at once, then one byte every 50 ms for as
        long as the client stays (or until `trickle_messages` is turned off)."""
        started = asyncio.get_running_loop().time()
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "1000000"})
        try:
            await response.prepare(request)
            while self.trickle_messages and request.transport is not None and not request.transport.is_closing():
                await response.write(b" ")
                await asyncio.sleep(0.05)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up
        finally:
            self.trickle_lifetimes.append(asyncio.get_running_loop().time() - started)
        return response

    # -- what Discord refuses --------------------------------------------------------------

    def _refusal(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]] | None:
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            state = self.interactions.get(parts[1])
            if state is None or time.monotonic() - state["dispatched"] > self.interaction_deadline:
                return 404, {"message": "Unknown interaction", "code": 10062}
            if state["acked"] is not None:
                return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
            kind = (body or {}).get("type")
            if kind in (6, 7) and state.get("type") != 3:
                return _invalid("type", "Interaction callback type 6/7 needs a message component interaction.")
            if kind in (4, 7):
                problem = message_problem((body or {}).get("data") or {}, allow_empty=kind == 7)
                if problem is not None:
                    return problem
            state["acked"] = kind
            return None
        if parts[0] == "webhooks" and len(parts) >= 3 and method in ("POST", "PATCH"):
            state = self._interaction_by_token(parts[2])
            if state is not None and state["acked"] is None:
                return 404, {"message": "Unknown Webhook", "code": 10015}
            problem = message_problem(body or {}, allow_empty=method == "PATCH")
            if problem is not None:
                return problem
            if state is not None and state["acked"] == 5 and not state["original_edited"]:
                state["original_edited"] = True
                if method == "POST":
                    self.followups_edited_loading.append(parts[2])
            return None
        if parts[0] == "channels" and parts[2:] == ["messages"] and method == "POST":
            return message_problem(body or {})
        if parts[0] == "channels" and parts[2:3] == ["messages"] and len(parts) == 4 and method == "PATCH":
            msg = self.messages.get(int(parts[3]))
            if msg is None or msg["channel_id"] != parts[1]:
                return 404, {"message": "Unknown Message", "code": 10008}
            return message_problem(body or {}, allow_empty=True)
        return None

    def _interaction_by_token(self, token: str) -> dict[str, Any] | None:
        return next((i for i in self.interactions.values() if i["token"] == token), None)

    async def _multipart(self, request: web.Request) -> dict[str, Any]:
        reader = await request.multipart()
        body: dict[str, Any] = {"files": []}
        async for part in reader:
            if part.name == "payload_json":
                body.update(json.loads(await part.text()))  # type: ignore[union-attr]
            else:
                body["files"].append(getattr(part, "filename", None))
        return body

    def _route(
        self, method: str, path: str, body: dict[str, Any] | None, query: dict[str, str] | None = None
    ) -> web.StreamResponse:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return _json(self.bot_user)
        if path in ("/applications/@me", "/oauth2/applications/@me"):
            return _json(
                {
                    "id": str(APP_ID),
                    "name": "farmhand",
                    "description": "",
                    "icon": None,
                    "bot_public": False,
                    "bot_require_code_grant": False,
                    "owner": user_payload(OWNER_ID, "owner"),
                    "verify_key": "0" * 64,
                    "flags": 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED is irrelevant here
                }
            )
        if path == "/gateway/bot":
            return _json(
                {
                    "url": f"ws://127.0.0.1:{self.port}/gateway",
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if parts[0] == "applications" and parts[-1] == "commands":
            if method == "PUT":
                self.command_puts += 1
                self.commands = [
                    {
                        "description": "",
                        **c,
                        "id": str(self.next_id()),
                        "application_id": str(APP_ID),
                        "version": "1",
                    }
                    for c in body or []
                ]
            return _json(self.commands)
        if parts[0] == "channels" and len(parts) == 2:
            channel = self.channels.get(int(parts[1]))
            if channel is None:
                return _json({"message": "Unknown Channel", "code": 10003}, status=404)
            return _json(channel)
        if parts[0] == "channels" and parts[2:] == ["messages"] and method == "POST":
            return _json(self._bot_message(int(parts[1]), body or {}))
        if parts[0] == "channels" and parts[2:3] == ["messages"] and len(parts) == 4 and method == "PATCH":
            return _json(self._edit_message(int(parts[3]), body or {}))
        if parts[0] == "channels" and parts[2:3] == ["messages"] and method == "GET":
            return self._get_messages(int(parts[1]), parts[3:], query or {})
        if parts[0] == "channels" and ("reactions" in parts or method == "DELETE"):
            return web.Response(status=204)
        if path == "/users/@me/channels":
            dm_id = self.next_id()
            recipient = user_payload(int((body or {})["recipient_id"]), "someone")
            self.channels[dm_id] = {
                "id": str(dm_id),
                "type": 1,
                "recipients": [recipient],
                "last_message_id": None,
            }
            return _json(self.channels[dm_id])
        if parts[0] == "interactions" and parts[-1] == "callback":
            return _json(self._callback(parts[1], body or {}))
        if parts[0] == "webhooks" and method == "POST":
            return _json(self._bot_message(0, body or {}))
        if parts[0] == "webhooks" and method == "PATCH":
            state = self._interaction_by_token(parts[2]) if len(parts) >= 3 else None
            if state is not None and state["acked"] in (6, 7) and state["message_id"] and parts[-1] == "@original":
                return _json(self._edit_message(int(state["message_id"]), body or {}))
            return _json(self._bot_message(0, body or {}))
        return _json({"message": f"fake discord: no route {method} {path}", "code": 0}, status=404)

    def _get_messages(self, channel_id: int, rest: list[str], query: dict[str, str]) -> web.Response:
        """GET one message, or a page like Discord: `after`/`before`/`limit`, newest first."""
        if rest:
            msg = self.messages.get(int(rest[0]))
            if msg is None or msg["channel_id"] != str(channel_id):
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return _json(msg)
        limit = min(int(query.get("limit", 50)), 100)
        found = sorted(
            (m for m in self.messages.values() if m["channel_id"] == str(channel_id)),
            key=lambda m: int(m["id"]),
        )
        if "after" in query:  # the `limit` messages right after it
            page = [m for m in found if int(m["id"]) > int(query["after"])][:limit]
        else:  # the `limit` newest (before `before`, when given)
            before = int(query.get("before", 1 << 63))
            page = [m for m in found if int(m["id"]) < before][-limit:]
        return _json(page[::-1])

    def delete_message(self, message_id: int) -> None:
        """The author deleted the message: GET answers 404 Unknown Message."""
        del self.messages[message_id]

    def _bot_message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        ref = (body.get("message_reference") or {}).get("message_id")
        msg = self.message(
            channel_id,
            self.bot_user,
            body.get("content") or "",
            guild=channel_id in self.channels and self.channels[channel_id]["type"] != 1,
            reply_to=None if ref is None else int(ref),
        )
        msg["embeds"] = body.get("embeds") or []
        msg["components"] = body.get("components") or []
        if body.get("flags"):
            msg["flags"] = body["flags"]
        return msg

    def _edit_message(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Apply an edit: the fields the body names replace the stored ones."""
        msg = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        msg["edited_timestamp"] = TIMESTAMP
        return msg

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        itype = (self.interactions.get(interaction_id) or {}).get("type") or 2
        result: dict[str, Any] = {"interaction": {"id": interaction_id, "type": itype}}
        data = body.get("data") or {}
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE (in the interaction's channel)
            msg = self._bot_message((self.interactions.get(interaction_id) or {}).get("channel_id") or 0, data)
            result["interaction"].update(
                response_message_id=msg["id"], response_message_ephemeral=bool(data.get("flags", 0) & 64)
            )
            result["resource"] = {"type": 4, "message": msg}
        elif kind == 7:  # UPDATE_MESSAGE: the component's own message changes
            state = self.interactions.get(interaction_id) or {}
            if state.get("message_id"):
                result["resource"] = {"type": 7, "message": self._edit_message(int(state["message_id"]), data)}
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            result["interaction"].update(
                response_message_loading=True, response_message_ephemeral=bool(data.get("flags", 0) & 64)
            )
        return result


def _invalid(where: str, what: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {where: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": what}]}},
    }


def message_problem(body: dict[str, Any], *, allow_empty: bool = False) -> tuple[int, dict[str, Any]] | None:
    """Discord's answer to a message body it refuses (status, JSON), or None when it accepts it."""
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    if len(content) > CONTENT_MAX:
        return _invalid("content", f"Must be {CONTENT_MAX} or fewer in length.")
    if not content and not embeds and not body.get("files") and not allow_empty:
        return 400, {"message": "Cannot send an empty message", "code": 50006}
    if len(embeds) > EMBEDS_MAX:
        return _invalid("embeds", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_TEXT_MAX.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                return _invalid(f"embeds.{i}.{key}", f"Must be {limit} or fewer in length.")
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            return _invalid(f"embeds.{i}.fields", f"Must be {EMBED_FIELDS_MAX} or fewer in length.")
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if len(name) > FIELD_NAME_MAX:
                return _invalid(
                    f"embeds.{i}.fields.{j}.name", f"Must be {FIELD_NAME_MAX} or fewer in length."
                )
            if len(value) > FIELD_VALUE_MAX:
                return _invalid(
                    f"embeds.{i}.fields.{j}.value", f"Must be {FIELD_VALUE_MAX} or fewer in length."
                )
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > FOOTER_TEXT_MAX:
            return _invalid(f"embeds.{i}.footer.text", f"Must be {FOOTER_TEXT_MAX} or fewer in length.")
        if len(author) > AUTHOR_NAME_MAX:
            return _invalid(f"embeds.{i}.author.name", f"Must be {AUTHOR_NAME_MAX} or fewer in length.")
    if total > EMBED_TOTAL_MAX:
        return _invalid("embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")
    return component_problem(body.get("components") or [])


def component_problem(rows: list[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
    """Discord's answer to message components it refuses, or None."""
    if len(rows) > ROWS_MAX:
        return _invalid("components", f"Must be {ROWS_MAX} or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != 1 or not items:
            return _invalid(f"components.{i}", "An action row (type 1) with at least one component.")
        selects = [c for c in items if c.get("type") in (3, 5, 6, 7, 8)]
        if (selects and len(items) > 1) or len(items) > BUTTONS_PER_ROW_MAX:
            return _invalid(f"components.{i}", "At most 5 buttons, or one select menu, per action row.")
        for j, c in enumerate(items):
            where = f"components.{i}.components.{j}"
            cid = c.get("custom_id")
            if c.get("type") == 2 and c.get("style") == 5:
                if not c.get("url") or cid:
                    return _invalid(where, "A link button has a url and no custom_id.")
            elif not isinstance(cid, str) or not 1 <= len(cid) <= CUSTOM_ID_MAX:
                return _invalid(f"{where}.custom_id", f"Must be between 1 and {CUSTOM_ID_MAX} in length.")
            elif cid in seen:
                return _invalid(f"{where}.custom_id", "Component custom id cannot be duplicated")
            else:
                seen.add(cid)
            if len(c.get("label") or "") > LABEL_MAX or len(c.get("placeholder") or "") > 150:
                return _invalid(f"{where}.label", f"Must be {LABEL_MAX} or fewer in length.")
            options = c.get("options")
            if c.get("type") == 3 and (not options or len(options) > SELECT_OPTIONS_MAX):
                return _invalid(f"{where}.options", f"Must be between 1 and {SELECT_OPTIONS_MAX} in length.")
            for k, o in enumerate(options or []):
                if len(o.get("label") or "") > LABEL_MAX or len(o.get("value") or "") > 100:
                    return _invalid(f"{where}.options.{k}", f"Must be {LABEL_MAX} or fewer in length.")
    return None


@contextlib.asynccontextmanager
async def running_fake(**kwargs: Any):
    """Start a FakeDiscord for the duration of the block."""
    fake = FakeDiscord(**kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
