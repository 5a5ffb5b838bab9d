"""The Discourse adapter against the sandbox forum, over real HTTP with the real pydiscourse client."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from bot.discourse.adapter import StartupError
from bot.discourse.client import ForumUnavailable
from tests.bot.discourse.conftest import (
    LOOKALIKE,
    LOOKALIKE_TITLE,
    ON_TOPIC,
    ON_TOPIC_TITLE,
    age_state,
    bot_replies,
)

LSCPU = """Architecture:                    x86_64
CPU(s):                          4
Vendor ID:                       GenuineIntel
Model name:                      Intel Xeon Processor (Skylake, IBRS)
Hypervisor vendor:               KVM
Virtualization type:             full
Flags:                           fpu vme de pse tsc msr pae mce cx8 apic sep hypervisor
"""


def _since():
    return datetime.now(UTC) - timedelta(minutes=1)


async def test_first_start_skips_backlog_then_answers_new_topic_once(forum, make_adapter):
    old = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)
    adapter = make_adapter()
    await adapter.start()
    assert await adapter.poll_once()
    assert bot_replies(forum) == []  # the backlog is history

    new = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once()
    assert await adapter.poll_once()
    replies = bot_replies(forum)
    assert [r["topic_id"] for r in replies] == [new["topic_id"]]
    reply = replies[0]
    assert reply["reply_to_post_number"] == 1
    assert "Automated answer" in reply["raw"] and "Why I answered" in reply["raw"]
    assert "Full answer" in reply["raw"] and "](<http" in reply["raw"]
    assert old["topic_id"] != new["topic_id"]
    assert adapter.store.claim_state("discourse", f"post:{new['id']}") == "posted"


async def test_restart_does_not_answer_again(forum, make_adapter):
    a1 = make_adapter()
    await a1.start()
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    await a1.poll_once()
    a1.store.close()
    a2 = make_adapter()  # same state file: a restarted bot
    await a2.start()
    await a2.poll_once()
    assert len(bot_replies(forum, topic["topic_id"])) == 1


async def test_lookalikes_and_plain_replies_are_ignored(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    la = forum.create_topic("bob", LOOKALIKE_TITLE, LOOKALIKE)
    forum.create_topic(
        "bob", "Farmerbot does not wake up my nodes", "Since the update farmerbot doesn't power my nodes on."
    )
    forum.reply("alice", la["topic_id"], "Same here, also with a VM deployment on the grid")
    assert await adapter.poll_once()
    assert bot_replies(forum) == []
    rows = adapter.store.decisions_since(_since())
    assert len(rows) == 2 and {r.action for r in rows} == {"silent"}
    assert all("off topic" in r.reason or "not auto-answered" in r.reason for r in rows)


async def test_mention_in_a_reply_is_answered(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic(
        "bob", "Node shows 0 uptime", "My node has been online all week but shows zero uptime."
    )
    m = forum.reply(
        "alice", t["topic_id"], "@farmhand why does ThreeFold insist on bare metal instead of VMs?"
    )
    assert await adapter.poll_once()
    replies = bot_replies(forum, t["topic_id"])
    assert len(replies) == 1 and replies[0]["reply_to_post_number"] == m["post_number"]
    rows = adapter.store.decisions_since(_since())
    assert [(r.kind, r.posted) for r in rows] == [("new_topic", False), ("mention", True)]


async def test_private_message_with_a_dump_gets_a_verdict_in_that_pm(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    pm = forum.create_topic(
        "alice", "Is my box ok?", f"Can you check this?\n\n```\n{LSCPU}```", private_to=["farmhand"]
    )
    assert await adapter.poll_once()
    replies = bot_replies(forum, pm["topic_id"])
    assert len(replies) == 1
    assert replies[0]["topic_archetype"] == "private_message"
    assert "Hardware check" in replies[0]["raw"]
    rows = adapter.store.decisions_since(_since())
    assert rows[0].kind == "private_message" and rows[0].verdict is not None
    assert bot_replies(forum, None) == replies  # nothing leaked into public topics


async def test_own_posts_other_bots_and_staff_are_not_answered(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    forum.create_topic("farmhand", ON_TOPIC_TITLE, ON_TOPIC)
    forum.create_topic("system", ON_TOPIC_TITLE, ON_TOPIC)
    forum.create_topic("maria_mod", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once()
    assert [p["username"] for p in bot_replies(forum)] == ["farmhand"]  # only its own topic post
    rows = adapter.store.decisions_since(_since())
    assert [r.reason for r in rows] == ["staff post: staff are not auto-answered"]


async def test_no_auto_reply_when_staff_already_answered(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)
    forum.reply("maria_mod", t["topic_id"], "A VM earns no rewards, farm on bare metal.")
    assert await adapter.poll_once()
    assert bot_replies(forum) == []
    assert "already answered" in adapter.store.decisions_since(_since())[0].reason


async def test_categories_limit_auto_replies_not_calls(forum, make_adapter):
    adapter = make_adapter(categories=(5,))
    await adapter.start()
    forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC, category_id=4)
    t = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC, category_id=5)
    forum.create_topic("alice", "Question", "@farmhand can I farm in a VM on my NAS?", category_id=4)
    assert await adapter.poll_once()
    topics = sorted(r["topic_id"] for r in bot_replies(forum))
    assert t["topic_id"] in topics and len(topics) == 2


async def test_shadow_mode_posts_nothing_but_records(forum, make_adapter):
    adapter = make_adapter(shadow=True)
    await adapter.start()
    forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.create_topic("alice", "Help", "@farmhand can I farm in a VM?")
    assert await adapter.poll_once()
    assert bot_replies(forum) == []
    assert not any(m == "POST" for m, _p, _s in forum.requests)
    rows = adapter.store.decisions_since(_since())
    assert len(rows) == 2 and all(r.mode == "shadow" and not r.posted for r in rows)
    assert {r.action for r in rows} == {"answer"}


async def test_rate_limit_json_wait_seconds_is_waited_out(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.inject("429json", wait=0.4, path="/posts.json", method="GET")
    forum.inject("429json", wait=0.3, path="/posts", method="POST")
    t0 = time.monotonic()
    assert await adapter.poll_once()
    assert time.monotonic() - t0 >= 0.7
    assert adapter.client.rate_limited_waits == [0.4, 0.3]
    assert len(bot_replies(forum)) == 1


async def test_rate_limit_plain_text_retry_after_is_waited_out(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.inject("429text", wait=1, path="/posts", method="POST")
    t0 = time.monotonic()
    assert await adapter.poll_once()
    assert time.monotonic() - t0 >= 1.0
    assert adapter.client.rate_limited_waits == [1.0]
    assert len(bot_replies(forum)) == 1


async def test_server_error_on_reply_retries_without_double_post(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.inject("502", path="/posts", method="POST")
    assert await adapter.poll_once() is False  # not handled: the cursor stays before it
    assert int(adapter.store.get_cursor("discourse:posts")) < t["id"]
    assert adapter.store.claim_state("discourse", f"post:{t['id']}") == "claimed"
    # A 502 is a proxy's answer: the forum may still store the reply, so the topic is looked at
    # again only after the forum's own request timeout (plus ours) has passed.
    assert await adapter.poll_once() is False
    age_state(adapter.store, adapter.cfg.forum_request_timeout + adapter.cfg.request_timeout + 1)
    assert await adapter.poll_once() is True
    assert await adapter.poll_once() is True
    assert len(bot_replies(forum, t["topic_id"])) == 1


async def test_claimed_but_unrecorded_reply_is_found_not_reposted(forum, make_adapter):
    """The 'posted, then killed before recording' state: a claim without `posted`."""
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    adapter.store.claim("discourse", f"post:{t['id']}", where=str(t["topic_id"]))
    age_state(adapter.store, 100)  # claimed by the run before the restart
    earlier = forum.reply("farmhand", t["topic_id"], "an earlier answer", reply_to_post_number=1)
    assert await adapter.poll_once()
    assert [r["id"] for r in bot_replies(forum, t["topic_id"])] == [earlier["id"]]
    assert adapter.store.claim_state("discourse", f"post:{t['id']}") == "posted"


async def test_claimed_but_never_posted_is_posted_once(forum, make_adapter):
    """Killed after the claim, before the post: the retry looks, finds nothing, posts."""
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    adapter.store.claim("discourse", f"post:{t['id']}", where=str(t["topic_id"]))
    age_state(adapter.store, 100)  # claimed by the run before the restart
    assert await adapter.poll_once()
    assert len(bot_replies(forum, t["topic_id"])) == 1
    assert any(p.startswith(f"/t/{t['topic_id']}") for _m, p, _s in forum.requests)


async def test_forum_down_and_back(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    stop = asyncio.Event()
    runner = asyncio.create_task(adapter.run(stop))
    try:
        forum.go_down()
        t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        await asyncio.sleep(0.8)
        snap = adapter.health.snapshot()["platforms"]["discourse"]
        assert snap["connected"] is False and "cannot connect" in snap["last_error"]
        forum.come_up()
        for _ in range(100):
            if bot_replies(forum, t["topic_id"]):
                break
            await asyncio.sleep(0.1)
        assert len(bot_replies(forum, t["topic_id"])) == 1
        await asyncio.sleep(0.3)
        assert adapter.health.snapshot()["platforms"]["discourse"]["connected"] is True
    finally:
        stop.set()
        await asyncio.wait_for(runner, 5)
    assert len(bot_replies(forum, t["topic_id"])) == 1


async def test_backlog_beyond_one_page_is_paged_with_before(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    first = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    for i in range(120):
        forum.create_topic("bob", f"Chatter number {i}", "Weather is nice, what about you all?")
    assert await adapter.poll_once()
    assert len(bot_replies(forum, first["topic_id"])) == 1
    befores = [p for m, p, _s in forum.requests if p == "/posts.json"]
    assert len(befores) >= 3


async def test_wrong_key_and_wrong_url_fail_start_with_one_line(forum, make_adapter):
    bad_key = make_adapter(api_key="nope")
    with pytest.raises(StartupError, match="refused the API key") as err:
        await bad_key.start()
    assert "\n" not in str(err.value) and "nope" not in str(err.value)
    unknown_user = make_adapter(api_username="ghost", state="s2.sqlite3")
    with pytest.raises(StartupError, match="refused"):
        await unknown_user.start()
    port = forum.port
    forum.stop()
    down = make_adapter(state="s3.sqlite3", url=f"http://127.0.0.1:{port}")
    await down.start()  # an outage is not a start-up failure: it starts disconnected
    assert not down.ready
    snap = down.health.snapshot()
    assert snap["ok"] is False and "unreachable at start-up" in snap["platforms"]["discourse"]["last_error"]


async def test_5xx_at_start_up_is_retried_and_the_backlog_answered(forum, make_adapter, caplog):
    forum.inject("503", count=4, path="/session/current.json")
    adapter = make_adapter()
    with caplog.at_level("INFO", logger="bot.discourse"):
        await adapter.start()
        assert not adapter.ready
        t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)  # asked while the bot waits
        stop = asyncio.Event()
        runner = asyncio.create_task(adapter.run(stop))
        try:
            for _ in range(100):
                if bot_replies(forum, t["topic_id"]):
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(runner, 5)
    assert len(bot_replies(forum, t["topic_id"])) == 1
    assert adapter.ready and adapter.health.snapshot()["ok"]
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in msgs) == 1  # one line per state change, not per try
    assert sum("reachable again" in m for m in msgs) == 1
    assert sum(1 for m, p, s in forum.requests if p == "/session/current.json" and s == 503) == 4


async def test_network_errors_are_typed(forum, make_adapter):
    adapter = make_adapter()
    forum.stop()
    with pytest.raises(ForumUnavailable):
        await adapter.client.latest_posts()


async def test_a_url_that_is_not_discourse_fails_start(make_adapter, tmp_path):
    """An HTML site at discourse.url: one line saying the URL looks wrong."""
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        adapter = make_adapter(url=f"http://127.0.0.1:{srv.server_address[1]}", state="html.sqlite3")
        with pytest.raises(StartupError, match="does not look like a Discourse forum"):
            await adapter.start()
    finally:
        srv.shutdown()
        srv.server_close()


async def test_only_regular_posts_are_questions_and_whispers_get_no_reply(forum, make_adapter):
    """Discourse post_type: 2 moderator action, 3 small action, 4 whisper are never answered."""
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic(
        "bob", "Node shows 0 uptime", "My node has been online all week but shows zero uptime."
    )
    tid = t["topic_id"]
    ask = "@farmhand can I farm ThreeFold in a Proxmox VM and still earn rewards?"
    forum.reply("maria_mod", tid, ask, post_type=2)
    forum.reply("maria_mod", tid, ask, post_type=3)
    whisper = forum.reply("maria_mod", tid, ask, post_type=4)
    assert await adapter.poll_once()
    assert bot_replies(forum) == []
    assert adapter.store.claim_state("discourse", f"post:{whisper['id']}") is None
    # A regular post with the same text is an explicit call and is answered.
    regular = forum.reply("alice", tid, ask)
    assert await adapter.poll_once()
    replies = bot_replies(forum, tid)
    assert [r["reply_to_post_number"] for r in replies] == [regular["post_number"]]
    assert all(r["post_type"] == 1 for r in replies)


async def test_a_staff_whisper_does_not_count_as_a_human_answer(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.reply("maria_mod", t["topic_id"], "Mods: I'll look at this one later.", post_type=4)
    assert await adapter.poll_once()
    assert len(bot_replies(forum, t["topic_id"])) == 1


def test_sandbox_whispers_only_for_staff(forum):
    t = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)
    forum.reply("maria_mod", t["topic_id"], "a staff note", post_type=4)

    def ids(user):
        r = requests.get(
            f"{forum.url}/t/{t['topic_id']}.json",
            headers={"Api-Key": forum.api_key, "Api-Username": user},
            timeout=5,
        )
        return [p["post_type"] for p in r.json()["post_stream"]["posts"]]

    assert ids("alice") == [1]
    assert ids("maria_mod") == [1, 4]
    # whisper=true from a non-staff user silently becomes a public post, as in Discourse.
    r = requests.post(
        f"{forum.url}/posts.json",
        data={"raw": "trying to whisper", "topic_id": t["topic_id"], "whisper": "true"},
        headers={"Api-Key": forum.api_key, "Api-Username": "alice"},
        timeout=5,
    )
    assert r.json()["post_type"] == 1


async def test_reply_held_for_approval_is_done_pending_and_never_posted_twice(forum, make_adapter):
    """POST /posts answers 200 {"action": "enqueued", "pending_post": {...}}: marked, moved on."""
    from bot.ops import metrics

    def held_metric() -> float:
        return (
            metrics.REGISTRY.get_sample_value(
                "farmhand_replies_held_for_approval_total", {"platform": "discourse"}
            )
            or 0.0
        )

    before = held_metric()
    forum.require_approval("farmhand")
    adapter = make_adapter()
    await adapter.start()
    t1 = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once()  # done, not "retry later"
    t2 = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)
    for _ in range(3):
        assert await adapter.poll_once()
    queue = forum.pending()
    assert [p["topic_id"] for p in queue] == [t1["topic_id"], t2["topic_id"]]  # one each, no repeats
    assert bot_replies(forum) == []
    assert adapter.store.claim_state("discourse", f"post:{t1['id']}") == "posted"
    snap = adapter.health.snapshot()
    assert snap["ok"] and snap["platforms"]["discourse"]["held_for_approval"] == 2
    assert held_metric() - before == 2
    rows = adapter.store.decisions_since(_since())
    assert [r.posted for r in rows] == [False, False]
    assert all("held for approval" in r.reason for r in rows)
    # Approving it later does not make the bot post again.
    forum.approve(queue[0]["id"])
    assert await adapter.poll_once()
    assert len(bot_replies(forum)) == 1 and len(forum.pending()) == 1


async def test_403_on_a_reply_releases_it_logs_one_line_and_carries_on(forum, make_adapter, caplog):
    """A closed topic (bot not a moderator) or a key whose scopes refuse the route: 403 on POST."""
    forum.set_role("farmhand")  # not a moderator: closed topics refuse its posts
    adapter = make_adapter()
    await adapter.start()
    closed = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.close_topic(closed["topic_id"])
    open_one = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)
    with caplog.at_level("INFO", logger="bot"):
        assert await adapter.poll_once()  # not "retry later": the queue moves on
    assert [r["topic_id"] for r in bot_replies(forum)] == [open_one["topic_id"]]
    assert adapter.store.claim_state("discourse", f"post:{closed['id']}") is None  # released
    lines = [r for r in caplog.records if str(closed["id"]) in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "WARNING"
    assert "reply refused" in lines[0].getMessage() and "403" in lines[0].getMessage()
    posts_before = sum(1 for m, p, _ in forum.requests if m == "POST")
    assert await adapter.poll_once() and await adapter.poll_once()
    assert sum(1 for m, p, _ in forum.requests if m == "POST") == posts_before  # never retried
    rows = adapter.store.decisions_since(_since())
    assert [r.posted for r in rows] == [False, True]


async def test_403_from_key_scopes_on_post_is_a_refusal_not_an_outage(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    forum.deny("POST", "/posts")
    t = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    assert await adapter.poll_once()
    assert adapter.store.claim_state("discourse", f"post:{t['id']}") is None
    assert int(adapter.store.get_cursor("discourse:posts")) == t["id"]
    assert bot_replies(forum) == []
