"""Finding 5: a POST that lands after the client's timeout is not posted twice.

The sandbox works on each reply POST for a while before storing it; the bot's request times
out first. The retry must not look in the topic before the forum could have stored it (its own
request timeout), and must recognise its reply by the marker it carries, whatever the delay.
Real HTTP against the sandbox on loopback, the real pydiscourse client.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.discourse.convert import marked_for, with_marker
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE

REQUEST_TIMEOUT = 0.3  # the bot's
FORUM_TIMEOUT = 0.8  # the forum's own


def _replies(forum, topic_id: int) -> list[dict]:
    return forum.posts(topic_id=topic_id, username="farmhand")


async def _poll_until_done(adapter, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await adapter.poll_once():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("store_after", [0.5, 0.75])
async def test_a_reply_stored_after_the_timeout_is_found_not_posted_again(forum, make_adapter, store_after):
    adapter = make_adapter(request_timeout=REQUEST_TIMEOUT, forum_request_timeout=FORUM_TIMEOUT)
    await adapter.start()
    forum.slow_posts(store_after, own_timeout=FORUM_TIMEOUT)
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    sent = time.monotonic()
    assert await adapter.poll_once() is False  # timed out: outcome unknown
    assert _replies(forum, topic["topic_id"]) == []  # not stored yet
    assert await _poll_until_done(adapter, 10)
    # the re-check waited for the forum's own timeout (plus the bot's), not just the next poll
    assert time.monotonic() - sent >= FORUM_TIMEOUT + REQUEST_TIMEOUT
    await asyncio.sleep(FORUM_TIMEOUT)  # anything still in flight at the forum lands by now
    replies = _replies(forum, topic["topic_id"])
    assert len(replies) == 1 and marked_for(replies[0]) == topic["id"]
    assert adapter.store.claim_state("discourse", f"post:{topic['id']}") == "posted"
    assert adapter.store.reply_id("discourse", f"post:{topic['id']}") == str(replies[0]["id"])


async def test_a_reply_the_forum_dropped_is_posted_once_more(forum, make_adapter):
    """Past the forum's own timeout the first POST is never stored: the re-check finds nothing and
    posts again, once."""
    adapter = make_adapter(request_timeout=REQUEST_TIMEOUT, forum_request_timeout=FORUM_TIMEOUT)
    await adapter.start()
    forum.slow_posts(FORUM_TIMEOUT + 1, own_timeout=FORUM_TIMEOUT)  # dropped at FORUM_TIMEOUT
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once() is False
    forum.slow_posts(None)
    assert await _poll_until_done(adapter, 10)
    assert len(_replies(forum, topic["topic_id"])) == 1


async def test_the_marker_tells_two_replies_to_the_same_post_number_apart(forum, make_adapter):
    """A reply of the bot's to the same post number that answers another post (a triage reply, an
    edit's answer) is not taken for this one: only the marker counts, when replies have one."""
    adapter = make_adapter()
    await adapter.start()
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    other = forum.reply("farmhand", topic["topic_id"], with_marker("another answer", 999), reply_to_post_number=1)
    found = await adapter._find_own_reply(topic["topic_id"], topic["id"], 1)
    assert found is None  # same post number, marker of another post
    mine = forum.reply("farmhand", topic["topic_id"], with_marker("my answer", topic["id"]), reply_to_post_number=1)
    assert await adapter._find_own_reply(topic["topic_id"], topic["id"], 1) == mine["id"] != other["id"]


async def test_the_marker_is_in_raw_only(forum, make_adapter):
    """Discourse keeps an HTML comment in `raw` and drops it from `cooked`; `/t/` serves `raw`
    only with include_raw, as Discourse does, and the re-check asks for it."""
    adapter = make_adapter()
    post = forum.create_topic("alice", ON_TOPIC_TITLE, with_marker("an answer", 7))
    plain = (await adapter.client.topic(post["topic_id"]))["post_stream"]["posts"][0]
    assert "raw" not in plain and "<!--" not in plain["cooked"] and "an answer" in plain["cooked"]
    full = (await adapter.client.topic(post["topic_id"], include_raw=True))["post_stream"]["posts"][0]
    assert marked_for(full) == 7
    [again] = await adapter.client.topic_posts(post["topic_id"], [post["id"]], include_raw=True)
    assert marked_for(again) == 7
