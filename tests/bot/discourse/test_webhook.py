"""Signed Discourse webhooks on a real aiohttp listener: good, bad, missing signature, retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
from aiohttp import web

from bot.ops.health import Health
from bot.web import bound_port, build_app
from tests.bot.discourse.conftest import ON_TOPIC, ON_TOPIC_TITLE, SECRET, bot_replies


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _send(
    url: str, body: bytes, *, signature: str | None, event_id: int = 1, event: str = "post_created"
):
    headers = {
        "Content-Type": "application/json",
        "X-Discourse-Event": event,
        "X-Discourse-Event-Id": str(event_id),
    }
    if signature is not None:
        headers["X-Discourse-Event-Signature"] = signature
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def _wait_for(pred, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if pred():
            return True
        await asyncio.sleep(0.05)
    return pred()


async def test_good_signature_is_answered_and_retry_with_new_event_id_is_deduped(forum, hooked):
    adapter, url = hooked
    post = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    body = json.dumps({"post": post}).encode()
    status, data = await _send(url, body, signature=_sign(body), event_id=7)
    assert status == 200 and data == {"accepted": post["id"]}
    assert await _wait_for(lambda: len(bot_replies(forum, post["topic_id"])) == 1)
    # Discourse retries with a new event id; the post id is what counts.
    status, data = await _send(url, body, signature=_sign(body), event_id=8)
    assert status == 200 and data == {"duplicate": post["id"]}
    await adapter.poll_once()  # the poller (safety net) agrees: nothing more to do
    await asyncio.sleep(0.2)
    assert len(bot_replies(forum, post["topic_id"])) == 1


async def test_bad_and_missing_signatures_are_rejected(forum, hooked):
    _adapter, url = hooked
    post = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    body = json.dumps({"post": post}).encode()
    assert (await _send(url, body, signature=None))[0] == 401
    assert (await _send(url, body, signature=_sign(body, "wrong-secret")))[0] == 401
    assert (await _send(url, body, signature="sha256=" + "0" * 64))[0] == 401
    tampered = body.replace(b"Proxmox", b"Hyper-V")
    assert (await _send(url, tampered, signature=_sign(body)))[0] == 401
    await asyncio.sleep(0.3)
    assert bot_replies(forum) == []


async def test_other_events_and_junk_are_not_handled(forum, hooked):
    _adapter, url = hooked
    body = b'{"topic": {"id": 1}}'
    assert await _send(url, body, signature=_sign(body), event="topic_created") == (
        200,
        {"ignored": "topic_created"},
    )
    junk = b"not json"
    assert (await _send(url, junk, signature=_sign(junk)))[0] == 400


async def test_webhook_for_a_post_older_than_the_start_is_ignored(forum, make_adapter):
    old = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    adapter = make_adapter()
    await adapter.start()
    runner = web.AppRunner(build_app(Health(), [adapter.webhook_route(SECRET)]), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/webhooks/discourse"
        body = json.dumps({"post": old}).encode()
        status, data = await _send(url, body, signature=_sign(body))
        assert status == 200 and "ignored" in data
    finally:
        await runner.cleanup()


async def test_sandbox_delivers_signed_webhooks_end_to_end(forum, hooked):
    _adapter, url = hooked
    forum.send_webhooks_to(url, SECRET)
    post = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await _wait_for(lambda: len(bot_replies(forum, post["topic_id"])) == 1)
