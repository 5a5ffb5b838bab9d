"""Private messages as a real forum serves them: admin and moderator views, group inboxes, flags.

The bot answers a PM only when it is a direct participant (`details.allowed_users`) and the PM
was not started by a flag, whether the PM came from /private-posts.json or a webhook.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.discourse.adapter import StartupError
from bot.ops.health import Health
from bot.web import bound_port, build_app
from tests.bot.discourse.conftest import ON_TOPIC, ON_TOPIC_TITLE, bot_replies
from tests.bot.discourse.test_webhook import SECRET, _send, _sign, _wait_for

QUESTION = "Can I run a Zero OS node in a Proxmox VM and still earn farming rewards?"


def _topic_reads(forum, topic_id: int) -> int:
    return sum(1 for m, p, _s in list(forum.requests) if m == "GET" and p == f"/t/{topic_id}.json")


def _since():
    return datetime.now(UTC) - timedelta(minutes=1)


async def test_moderator_view_answers_only_its_own_pms_not_group_inboxes_or_flags(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    public = forum.create_topic("bob", "Node shows 0 uptime", "My node has been online all week.")
    flag = forum.flag("alice", public["id"], f"This is spam. {QUESTION}")
    group = forum.create_topic("bob", "Question for the mods", QUESTION, private_to_groups=["moderators"])
    forum.reply("alice", group["topic_id"], "@farmhand what do you think? " + QUESTION)
    mine = forum.create_topic("alice", "A question for the bot", QUESTION, private_to=["farmhand"])
    forum.reply("alice", mine["topic_id"], "@farmhand and one more: " + QUESTION)
    assert await adapter.poll_once()
    assert await adapter.poll_once()
    replies = bot_replies(forum)
    assert {r["topic_id"] for r in replies} == {mine["topic_id"]}
    assert len(replies) == 2  # both posts of its own PM
    assert not bot_replies(forum, flag["topic_id"]) and not bot_replies(forum, group["topic_id"])
    # Nothing about other people's conversations in the audit log.
    rows = adapter.store.decisions_since(_since())
    assert {r.where for r in rows} <= {str(mine["topic_id"]), str(public["topic_id"])}
    # One topic read per PM topic, cached: the group PM has two posts and is read once.
    assert _topic_reads(forum, group["topic_id"]) == 1
    assert _topic_reads(forum, mine["topic_id"]) == 1


async def test_a_send_a_message_flag_to_the_bot_is_not_answered(forum, make_adapter):
    """A "send @farmhand a message" flag on the bot's own reply is a PM to the bot started by a flag."""
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once()
    (answer,) = bot_replies(forum, t["topic_id"])
    flag = forum.flag("bob", answer["id"], f"This answer is wrong. {QUESTION}", kind="notify_user")
    assert "farmhand" in forum._topics[flag["topic_id"]].allowed
    assert await adapter.poll_once()
    assert bot_replies(forum, flag["topic_id"]) == []


async def test_an_admin_account_refuses_to_start(forum, make_adapter):
    forum.set_role("farmhand", admin=True)
    forum.create_topic("alice", "Between us", QUESTION, private_to=["bob"])  # an admin would see it
    adapter = make_adapter()
    with pytest.raises(StartupError, match="is an admin"):
        await adapter.start()
    assert not any(p == "/private-posts.json" for _m, p, _s in forum.requests)


async def test_webhooks_for_other_peoples_pms_are_not_answered(forum, make_adapter):
    """Discourse delivers post_created for every post, PMs included (serialized for the system user)."""
    adapter = make_adapter()
    await adapter.start()
    runner = web.AppRunner(build_app(Health(), [adapter.webhook_route(SECRET)]), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{bound_port(runner)}/webhooks/discourse"
    try:
        others = forum.create_topic("alice", "Between us", QUESTION, private_to=["bob"])
        group = forum.create_topic("bob", "For the mods", QUESTION, private_to_groups=["moderators"])
        mine = forum.create_topic("alice", "For the bot", QUESTION, private_to=["farmhand"])
        for i, post in enumerate((others, group, mine)):
            assert post["topic_archetype"] == "private_message"
            body = json.dumps({"post": post}).encode()
            status, _data = await _send(url, body, signature=_sign(body), event_id=i + 1)
            assert status == 200
        assert await _wait_for(lambda: len(bot_replies(forum, mine["topic_id"])) == 1)
        await asyncio.sleep(0.3)
        assert bot_replies(forum, others["topic_id"]) == [] and bot_replies(forum, group["topic_id"]) == []
        # The PM the bot cannot see costs one read, and nothing more (no reply lookups, no POST).
        assert _topic_reads(forum, others["topic_id"]) == 1
        posts = [p for m, p, _s in forum.requests if m == "POST"]
        assert len(posts) == 1
        assert await adapter.poll_once()  # the poller agrees
        assert len(bot_replies(forum)) == 1
    finally:
        await runner.cleanup()
