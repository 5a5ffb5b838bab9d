"""API key scopes as Discourse's ApiKeyScope has them: what works, and the start-up error for a 403."""

from __future__ import annotations

import pytest

from bot.discourse.adapter import StartupError
from tests.bot.discourse.conftest import ON_TOPIC, ON_TOPIC_TITLE, bot_replies


async def test_granular_global_read_and_topics_write_is_enough(forum, make_adapter):
    forum.key_scopes(["global:read", "topics:write"])
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    pm = forum.create_topic("bob", "For the bot", ON_TOPIC, private_to=["farmhand"])
    assert await adapter.poll_once()
    assert {r["topic_id"] for r in bot_replies(forum)} == {t["topic_id"], pm["topic_id"]}


async def test_no_granular_scope_but_global_read_covers_the_session_route(forum, make_adapter):
    """topics:read/write, users:show, categories:list: /session/current.json is refused (403)."""
    forum.key_scopes(["topics:read", "topics:write", "users:show", "categories:list"])
    adapter = make_adapter()
    with pytest.raises(StartupError) as err:
        await adapter.start()
    msg = str(err.value)
    assert "GET /session/current.json" in msg and "403" in msg
    assert "global:read" in msg and "topics:write" in msg and "Global" in msg
    assert "refused the API key" not in msg  # the key is fine; its scopes are not


async def test_a_feed_the_key_may_not_read_fails_at_start_naming_the_route(forum, make_adapter):
    forum.deny("GET", "/private-posts.json")
    adapter = make_adapter()
    with pytest.raises(StartupError, match=r"refused GET /private-posts\.json with 403"):
        await adapter.start()


async def test_a_wrong_key_is_still_reported_as_a_wrong_key(forum, make_adapter):
    forum.key_scopes(["global:read"])
    adapter = make_adapter(api_key="nope")
    with pytest.raises(StartupError, match="refused the API key"):
        await adapter.start()


async def test_read_only_key_refuses_replies_with_the_scope_named(forum, make_adapter, caplog):
    forum.key_scopes(["global:read"])
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    with caplog.at_level("WARNING", logger="bot"):
        assert await adapter.poll_once()
    assert bot_replies(forum) == []
    lines = [r.getMessage() for r in caplog.records if str(t["id"]) in r.getMessage()]
    assert len(lines) == 1 and "topics:write" in lines[0]
