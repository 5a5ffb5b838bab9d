"""Finding 2: one unpostable topic does not stop the forum queue (a real `farmhand run`).

Every reply POST to one topic answers 500. The topics asked after it are answered within a
poll or two while it is retried; once its budget is spent it is set aside with one log line, a
metric and a health warning, and the cursor moves past it. The budget lives in the state, so a
restart does not hand the post a fresh one.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

from bot.state import Store
from tests.bot.discourse.conftest import age_state
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE, polls, start, stop, wait_for, write_config

QUESTIONS = [
    ("Zero OS node on a Hetzner VPS?", "Can I run a Zero OS farming node on a Hetzner VPS and earn rewards?"),
    ("Farming in VirtualBox", "Will my ThreeFold node farm if I run Zero OS inside VirtualBox on my PC?"),
    ("ZOS in a VMware VM for farming", "Is it possible to farm TFT with a Zero OS node running in VMware ESXi?"),
    ("Cloud VM as a ThreeFold farm?", "Can I rent an AWS EC2 instance and run a ZOS node on it to farm tokens?"),
    ("Proxmox VM for a 3Node", "I want to run my 3Node as a VM on Proxmox. Will it get farming rewards?"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int | None, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


def _discourse_health(port: int) -> dict:
    _code, body = _get(port, "/healthz")
    return json.loads(body or b"{}").get("platforms", {}).get("discourse", {})


def _failed_posts(forum) -> int:
    return sum(1 for m, p, s in list(forum.requests) if m == "POST" and p == "/posts" and s == 500)


def test_one_unpostable_topic_does_not_hold_up_the_others(forum, tmp_path):
    port = _free_port()
    extra = f"  retry_attempts: 3\n  retry_minutes: 30\nhttp:\n  listen: 127.0.0.1:{port}\n"
    cfg = write_config(tmp_path, forum.url, extra=extra)
    proc = start(cfg, forum.api_key)
    try:
        assert wait_for(lambda: polls(forum) >= 2), "the bot did not start polling"
        poison = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        forum.inject("500", count=10_000, path="/posts", method="POST", topic_id=poison["topic_id"])
        asked = [(forum.create_topic("alice", title, text), time.monotonic()) for title, text in QUESTIONS]
        for topic, at in asked:
            assert wait_for(lambda t=topic: len(forum.posts(topic_id=t["topic_id"], username="farmhand")) == 1, 10)
            # on time: within a poll or two (0.1 s each) plus the work, not after the poison's backoff
            assert time.monotonic() - at < 5.0
        assert wait_for(lambda: "set aside" in " ".join(_discourse_health(port).get("warnings", [])), 20)
        health = _discourse_health(port)
        assert any(f"post {poison['id']} " in w and "3 failed attempts" in w for w in health["warnings"])
        assert _get(port, "/healthz")[0] == 200  # the rest of the forum works: a warning, not a 503
        metrics = _get(port, "/metrics")[1].decode()
        assert 'farmhand_posts_set_aside_total{platform="discourse"} 1.0' in metrics
        # the cursor is past the poison: a later question is answered and the cursor reaches it
        late = forum.create_topic("alice", "Zero OS in a KVM guest?", "Can a Zero OS node in a KVM VM earn farming rewards?")
        assert wait_for(lambda: len(forum.posts(topic_id=late["topic_id"], username="farmhand")) == 1, 10)
        state = Store(tmp_path / "state" / "state.sqlite3")
        assert wait_for(lambda: int(state.get_cursor("discourse:posts") or 0) >= late["id"], 10)
        state.close()
        seen = polls(forum)
        assert wait_for(lambda: polls(forum) >= seen + 5)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert _failed_posts(forum) == 3  # its budget, not one more
    assert forum.posts(topic_id=poison["topic_id"], username="farmhand") == []
    lines = [line for line in err.splitlines() if "set aside" in line]
    assert len(lines) == 1 and f"item={poison['id']}" in lines[0] and "WARNING" in lines[0], err
    assert "3 failed attempts" in lines[0] and "posted=False" in lines[0]
    assert sum(f"post {poison['id']}: reply failed" in line for line in err.splitlines()) == 1  # not one per try
    assert forum.url not in err.split("set aside", 1)[1].splitlines()[0]  # no forum address in the line
    assert "Traceback" not in err


async def test_the_retry_budget_survives_a_restart(forum, make_adapter):
    """Two failed attempts, a restart (a new adapter on the same state), one more: set aside."""
    first = make_adapter(retry_attempts=3, retry_minutes=10_000)
    await first.start()
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.inject("500", count=100, path="/posts", method="POST", topic_id=topic["topic_id"])
    key = f"post:{topic['id']}"
    for attempts in (1, 2):
        age_state(first.store, 3600)  # its backoff is over
        assert await first.poll_once() is False
        assert first.store.retry_get("discourse", key).attempts == attempts
    first.store.close()
    again = make_adapter(retry_attempts=3, retry_minutes=10_000)  # the same state file: a restart
    await again.start()
    age_state(again.store, 3600)
    assert await again.poll_once() is True  # the third failure spends the budget
    retry = again.store.retry_get("discourse", key)
    assert retry.attempts == 3 and retry.set_aside_at is not None
    assert int(again.store.get_cursor("discourse:posts")) >= topic["id"]
    assert _failed_posts(forum) == 3
    assert await again.poll_once() is True
    assert _failed_posts(forum) == 3  # never tried again
    assert again.health.snapshot()["platforms"]["discourse"]["warnings"]


async def test_a_post_failing_for_longer_than_retry_minutes_is_set_aside(forum, make_adapter):
    """The budget has an age as well as a count: the second failure, two minutes after the
    first, spends a one-minute budget although seven attempts are left."""
    adapter = make_adapter(retry_attempts=8, retry_minutes=1)
    await adapter.start()
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    forum.inject("500", count=100, path="/posts", method="POST", topic_id=topic["topic_id"])
    assert await adapter.poll_once() is False
    age_state(adapter.store, 120)
    assert await adapter.poll_once() is True
    retry = adapter.store.retry_get("discourse", f"post:{topic['id']}")
    assert retry.attempts == 2 and retry.set_aside_at is not None
    assert "2 failed attempts in 120 s" in adapter.health.snapshot()["platforms"]["discourse"]["warnings"][0]
