"""Triage on Discourse with the real `farmhand run` process against the sandbox forum.

unsure posts -> one batched PM to the recipients -> `send N` / `send N ENTRY` / `skip N` -> exactly one
reply per item -> a confirmation in the PM -> stored labels; batches at most once per triage_minutes;
commands are read only in that PM.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from bot.discourse.triage import parse_commands
from bot.state import Store
from knowledge import default_kb
from tests.band import unsure_topics
from tests.bot.discourse.conftest import ON_TOPIC, ON_TOPIC_TITLE, bot_replies
from tests.bot.discourse.test_run import _start, _stop, _wait

pytestmark = pytest.mark.timeout(90)

UNSURE = unsure_topics(3)  # three posts the shipped model is unsure of (tests/band.py)
MINUTES = 0.05  # 3 seconds between batches


def _config(tmp_path, url, recipients="[maria_mod]"):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {tmp_path / 'state.sqlite3'}\n"
        "mode: live\n"
        "discourse:\n"
        f"  url: {url}\n"
        "  api_username: farmhand\n"
        "  poll_seconds: 0.1\n"
        "  request_timeout: 10\n"
        f"  triage_recipients: {recipients}\n"
        f"  triage_minutes: {MINUTES}\n"
    )
    return cfg


def _triage_pms(forum) -> list[dict]:
    return [
        p
        for p in bot_replies(forum)
        if p["topic_archetype"] == "private_message" and p["topic_title"].startswith("farmhand triage")
    ]


def _created(post) -> float:
    return datetime.fromisoformat(post["created_at"].replace("Z", "+00:00")).timestamp()


def test_parse_commands():
    assert parse_commands("send 3\nSEND #4 rented-servers\n> send 9\nskip 5\nthanks!") == [
        ("send", 3, None),
        ("send", 4, "rented-servers"),
        ("skip", 5, None),
    ]


def test_unsure_posts_batched_pm_send_skip_and_labels(forum, tmp_path):
    kb = default_kb()
    for title, body in UNSURE:
        assert kb.match(f"{title}\n\n{body}").band == "unsure", title
    proc = _start(_config(tmp_path, forum.url), forum.api_key)
    try:
        assert _wait(lambda: any(p == "/posts.json" for _m, p, _s in list(forum.requests))), "not polling"
        time.sleep(0.3)
        with forum._lock:  # both land in the same poll
            t1 = forum.create_topic("alice", *UNSURE[0])
            t2 = forum.create_topic("bob", *UNSURE[1])
        sure = forum.create_topic("bob", ON_TOPIC_TITLE, ON_TOPIC)  # auto-answered, not triaged
        assert _wait(lambda: len(_triage_pms(forum)) == 1, 20), "no triage PM"
        assert _wait(lambda: len(bot_replies(forum, sure["topic_id"])) == 1, 20)
        (batch,) = _triage_pms(forum)
        pm_topic = batch["topic_id"]
        raw = batch["raw"]
        assert "**1.**" in raw and "**2.**" in raw and "**3.**" not in raw
        assert f"/t/{t1['topic_slug']}/{t1['topic_id']}/1" in raw and f"/{t2['topic_id']}/1" in raw
        assert f"`{_candidate(UNSURE[0])}`" in raw and "probability 0." in raw
        assert UNSURE[0][1][:25] in raw
        # the unsure posts themselves got no reply
        assert bot_replies(forum, t1["topic_id"]) == [] and bot_replies(forum, t2["topic_id"]) == []

        # a third unsure post right away waits for the next batch (at most one per triage_minutes)
        t3 = forum.create_topic("alice", *UNSURE[2])
        assert _wait(lambda: len(forum.posts(topic_id=pm_topic, username="farmhand")) == 2, 20)
        second = forum.posts(topic_id=pm_topic, username="farmhand")[1]
        assert "**3.**" in second["raw"] and "**1.**" not in second["raw"]
        assert _created(second) - _created(batch) >= MINUTES * 60 - 0.2

        # the recipient answers in the PM: send 1 with another entry, skip 2
        forum.reply("maria_mod", pm_topic, "send 1 rented-servers\nskip 2")
        assert _wait(lambda: len(bot_replies(forum, t1["topic_id"])) == 1, 20)
        assert _wait(lambda: any("#2: skipped" in p["raw"] for p in bot_replies(forum, pm_topic)), 20)
        confirm = next(p for p in bot_replies(forum, pm_topic) if "#2: skipped" in p["raw"])
        assert "#1: sent `rented-servers`" in confirm["raw"]
        (answer,) = bot_replies(forum, t1["topic_id"])
        assert answer["reply_to_post_number"] == 1

        # again (a second moderator, or a repeat): already decided, no second reply
        forum.reply("maria_mod", pm_topic, "send 1")
        assert _wait(lambda: any("already decided" in p["raw"] for p in bot_replies(forum, pm_topic)), 20)
        # a command anywhere else is not a command: alice's own PM to the bot is a question
        pm = forum.create_topic("alice", "question for the bot", "send 3", private_to=["farmhand"])
        assert _wait(lambda: len(bot_replies(forum, pm["topic_id"])) == 1, 20)
        forum.reply("maria_mod", pm_topic, "send 3")
        assert _wait(lambda: len(bot_replies(forum, t3["topic_id"])) == 1, 20)
        time.sleep(0.5)
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert len(bot_replies(forum, t1["topic_id"])) == 1
    assert bot_replies(forum, t2["topic_id"]) == []
    store = Store(tmp_path / "state.sqlite3")
    try:
        got = {(lab.item_id, lab.decision, lab.label, lab.entry) for lab in store.labels()}
    finally:
        store.close()
    assert got == {
        (str(t1["id"]), "other", "vm_farming", "rented-servers"),
        (str(t2["id"]), "not_this", "other", None),
        (str(t3["id"]), "send", "vm_farming", _candidate(UNSURE[2])),
    }


def _candidate(topic: tuple[str, str]) -> str | None:
    """The entry the shipped model would send for an unsure topic (`send N` without an entry)."""
    title, body = topic
    return default_kb().match(f"{title}\n\n{body}").candidate


def test_a_group_recipient_opens_a_group_pm(forum, tmp_path):
    proc = _start(_config(tmp_path, forum.url, recipients="[moderators]"), forum.api_key)
    try:
        assert _wait(lambda: any(p == "/posts.json" for _m, p, _s in list(forum.requests)))
        time.sleep(0.3)
        topic = forum.create_topic("alice", *UNSURE[0])
        assert _wait(lambda: len(_triage_pms(forum)) == 1, 20)
        pm_topic = _triage_pms(forum)[0]["topic_id"]
        # any staff member of the group may decide (maria_mod is a moderator)
        forum.reply("maria_mod", pm_topic, "send 1")
        assert _wait(lambda: len(bot_replies(forum, topic["topic_id"])) == 1, 20)
    finally:
        code, err = _stop(proc)
    assert code == 0, err


def test_a_deleted_reply_and_a_later_mention_are_labels(forum, tmp_path):
    cfg = _config(tmp_path, forum.url)
    cfg.write_text(cfg.read_text().replace(f"triage_minutes: {MINUTES}", "triage_minutes: 0.01"))
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: any(p == "/posts.json" for _m, p, _s in list(forum.requests)))
        time.sleep(0.3)
        answered = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC + " I'm at alice@example.org")
        assert _wait(lambda: len(bot_replies(forum, answered["topic_id"])) == 1, 20)
        (reply,) = bot_replies(forum, answered["topic_id"])
        forum.delete_post(reply["id"], by="maria_mod")  # a moderator removes the auto-reply

        silent = forum.create_topic("bob", *UNSURE[1])
        assert _wait(lambda: len(_triage_pms(forum)) == 1, 20)  # stayed silent, shown to triage
        forum.reply("maria_mod", silent["topic_id"], "@farmhand is this about farming in a VM?")
        assert _wait(lambda: len(bot_replies(forum, silent["topic_id"])) == 1, 20)

        state = tmp_path / "state.sqlite3"

        def labels():
            s = Store(state)
            try:
                return {lab.item_id: lab for lab in s.labels()}
            finally:
                s.close()

        assert _wait(lambda: len(labels()) == 2, 20), labels()
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    got = labels()
    removed, called = got[str(answered["id"])], got[str(silent["id"])]
    assert (removed.decision, removed.label, removed.entry) == ("removed", "other", None)
    assert ON_TOPIC_TITLE in removed.text and "alice@example.org" not in removed.text
    assert (called.decision, called.label, called.entry) == ("called", "vm_farming", "vm-farming")
    assert called.text.startswith(UNSURE[1][0])
