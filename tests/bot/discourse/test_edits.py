"""Edits: an @mention or a dump added by editing a post is seen, still at most one reply per post."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.bot.discourse.conftest import LOOKALIKE, LOOKALIKE_TITLE, bot_replies
from tests.bot.discourse.test_webhook import _send, _sign, _wait_for

CALL = "@farmhand can I farm ThreeFold in a Proxmox VM and still earn rewards?"


async def test_a_mention_added_by_an_edit_is_answered_once_when_polling(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic(
        "bob", "Node shows 0 uptime", "My node has been online all week but shows zero uptime."
    )
    r = forum.reply("alice", t["topic_id"], "Same here.")
    assert await adapter.poll_once()
    assert bot_replies(forum) == []
    forum.edit(r["id"], "Same here. " + CALL)
    assert await adapter.poll_once()
    replies = bot_replies(forum, t["topic_id"])
    assert [x["reply_to_post_number"] for x in replies] == [r["post_number"]]
    forum.edit(r["id"], "Same here. " + CALL + " (edited again)")
    assert await adapter.poll_once() and await adapter.poll_once()
    assert len(bot_replies(forum, t["topic_id"])) == 1  # one reply per post, whatever the edits


async def test_each_edit_is_decided_once(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("bob", LOOKALIKE_TITLE, LOOKALIKE)
    assert await adapter.poll_once()
    forum.edit(t["id"], LOOKALIKE + " Also: which terraform provider version do I need?")
    for _ in range(3):
        assert await adapter.poll_once()
    rows = [x for x in adapter.store.decisions_since(_long_ago()) if x.item_id == str(t["id"])]
    assert [x.action for x in rows] == ["silent", "silent"]  # the post, then its one edit
    assert bot_replies(forum) == []


async def test_post_edited_webhook_is_handled(forum, hooked):
    adapter, url = hooked
    t = forum.create_topic(
        "bob", "Node shows 0 uptime", "My node has been online all week but shows zero uptime."
    )
    r = forum.reply("alice", t["topic_id"], "Same here.")
    assert await adapter.poll_once()
    edited = forum.edit(r["id"], "Same here. " + CALL)
    body = json.dumps({"post": edited}).encode()
    status, data = await _send(url, body, signature=_sign(body), event_id=3, event="post_edited")
    assert status == 200 and data == {"accepted": r["id"]}
    assert await _wait_for(lambda: len(bot_replies(forum, t["topic_id"])) == 1)
    status, data = await _send(url, body, signature=_sign(body), event_id=4, event="post_edited")
    assert data == {"duplicate": r["id"]}  # a redelivery of the same version
    assert await adapter.poll_once()
    assert len(bot_replies(forum, t["topic_id"])) == 1


def _long_ago():
    return datetime.now(UTC) - timedelta(hours=1)
