"""A guard in front of the Discourse webhook route: refuse what the adapter should never see.

Runs before the adapter's handler (`DiscourseAdapter.webhook_route`) and answers on its own:

- a missing or wrong signature: 401, counted, and at most one warning a minute (a scanner
  hammering the URL must not flood the journal);
- a signed body that is not a JSON object (form-encoded because the webhook's content type
  is set wrong, truncated, nested a million deep): 400, counted, one log line;
- a signed `post_created` payload with absurd values (`"id": 1e400`, `"topic_id": "x"`,
  negative or huge ids, a title that is a list): 400, counted, one log line naming the field.

Only a payload that would convert cleanly reaches the adapter, so nothing after it can fail
in a background task with an exception nobody retrieves. Whatever still goes wrong in the
handler is one log line and a 400, never a traceback or a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.ops import metrics
from bot.web import LogThrottle

log = logging.getLogger(__name__)

PLATFORM = "discourse"
MAX_ID = 2**53  # ids and numbers beyond this are not Discourse's
_INT_FIELDS = ("id", "topic_id", "post_number", "user_id", "category_id", "reply_to_post_number")
_REQUIRED_INTS = ("id", "topic_id")
_STR_FIELDS = ("raw", "cooked", "username", "topic_title", "topic_slug", "created_at", "topic_archetype")


class Refused(ValueError):
    """A body the guard refuses; the message is one line naming what is wrong (no content)."""


def check_post_created(body: bytes, content_type: str) -> dict[str, Any]:
    """The `post` object of a signed post_created body, or `Refused` with one line."""
    if "json" not in content_type.lower():
        if content_type.lower().startswith("application/x-www-form-urlencoded") or body.startswith(
            b"payload="
        ):
            raise Refused("form-encoded body: set the webhook's content type to application/json")
        raise Refused(f"content type {content_type[:60]!r} is not JSON")
    try:
        data = json.loads(body)
    except RecursionError:
        raise Refused("JSON nested too deep") from None
    except (ValueError, UnicodeDecodeError):
        raise Refused("malformed JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("post"), dict):
        raise Refused("no post object")
    post: dict[str, Any] = data["post"]
    for field in _INT_FIELDS:
        value = post.get(field)
        if value is None and field not in _REQUIRED_INTS:
            continue
        # Negative ids exist (Discourse's system user is -1); absurd sizes and non-integers do not.
        if isinstance(value, bool) or not isinstance(value, int) or not -MAX_ID < value < MAX_ID:
            raise Refused(f"post.{field} is not an id ({type(value).__name__})")
    for field in _STR_FIELDS:
        value = post.get(field)
        if value is not None and not isinstance(value, str):
            raise Refused(f"post.{field} is not a string ({type(value).__name__})")
    return post


def guard_webhook(route: web.RouteDef, secret: str) -> web.RouteDef:
    """The same route with the checks above in front of its handler."""
    key = secret.encode()
    inner: Callable[[web.Request], Awaitable[web.StreamResponse]] = route.handler  # type: ignore[assignment]
    unsigned = LogThrottle(logger=log)

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()  # cached: the inner handler reads the same bytes
        signature = request.headers.get("X-Discourse-Event-Signature", "")
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="webhook_signature").inc()
            unsigned("rejected a webhook with a %s signature", "missing" if not signature else "wrong")
            return web.json_response({"error": "invalid signature"}, status=401)
        if request.headers.get("X-Discourse-Event", "") == "post_created":
            try:
                check_post_created(body, request.headers.get("Content-Type", ""))
            except Refused as exc:
                metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="webhook_refused").inc()
                # Signed, so from the forum itself: every one is worth its line.
                log.warning("refused a signed webhook: %s", exc)
                return web.json_response({"error": str(exc)}, status=400)
        try:
            return await inner(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # the adapter's bug must not be a traceback and a 500 to the forum
            metrics.PLATFORM_ERRORS.labels(platform=PLATFORM, kind="webhook_refused").inc()
            log.error("webhook handler failed: %s", type(exc).__name__)
            return web.json_response({"error": "could not handle this payload"}, status=400)

    return web.route(route.method, route.path, handler, **route.kwargs)
