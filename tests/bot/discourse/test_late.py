"""Posts that arrive late: an id below the cursor (approved, unhidden, a slow transaction)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.bot.discourse.conftest import LOOKALIKE, LOOKALIKE_TITLE, ON_TOPIC, ON_TOPIC_TITLE, bot_replies


def _since():
    return datetime.now(UTC) - timedelta(minutes=5)


async def test_a_post_that_appears_below_the_cursor_is_answered_once(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    late = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.withhold(late["id"])
    later = forum.create_topic("bob", LOOKALIKE_TITLE, LOOKALIKE)
    assert await adapter.poll_once()
    assert int(adapter.store.get_cursor("discourse:posts")) == later["id"] > late["id"]
    assert bot_replies(forum) == []
    forum.publish(late["id"])
    assert await adapter.poll_once()
    assert [r["topic_id"] for r in bot_replies(forum)] == [late["topic_id"]]
    for _ in range(3):
        assert await adapter.poll_once()
    assert len(bot_replies(forum)) == 1


async def test_a_restart_does_not_decide_the_look_back_page_again(forum, make_adapter):
    a1 = make_adapter()
    await a1.start()
    t1 = forum.create_topic("bob", LOOKALIKE_TITLE, LOOKALIKE)  # decided: silent
    t2 = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)  # answered
    assert await a1.poll_once()
    rows_before = len(a1.store.decisions_since(_since()))
    a1.store.close()
    a2 = make_adapter()  # same state: a restart, with nothing in memory
    await a2.start()
    for _ in range(3):
        assert await a2.poll_once()
    assert len(a2.store.decisions_since(_since())) == rows_before == 2
    assert len(bot_replies(forum, t2["topic_id"])) == 1 and bot_replies(forum, t1["topic_id"]) == []
