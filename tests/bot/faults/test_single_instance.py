"""Finding 1: two bots on one state file would answer everything twice; the second refuses to start."""

from __future__ import annotations

import signal

from bot.state import StateError, StateLock
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE, polls, start, stop, wait_for, write_config


def test_second_run_on_the_same_state_refuses_naming_the_holder(forum, tmp_path):
    cfg = write_config(tmp_path, forum.url)
    first = start(cfg, forum.api_key)
    try:
        assert wait_for(lambda: polls(forum) >= 3), "the first bot did not start polling"
        second = start(cfg, forum.api_key)
        code, err = second.wait(30), second.communicate()[1]
        assert code == 1, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert f"pid {first.pid}" in lines[0] and "in use by another farmhand" in lines[0]
        # The first bot is untouched and still answers, exactly once.
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1)
        assert first.poll() is None
    finally:
        code, err = stop(first)
    assert code == 0, err


def test_a_killed_holder_leaves_no_stale_lock(forum, tmp_path):
    cfg = write_config(tmp_path, forum.url)
    first = start(cfg, forum.api_key)
    try:
        assert wait_for(lambda: polls(forum) >= 2)
    finally:
        first.kill()
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    again = start(cfg, forum.api_key)
    try:
        seen = polls(forum)
        assert wait_for(lambda: polls(forum) >= seen + 3), "a restart after kill -9 must not be refused"
    finally:
        code, err = stop(again)
    assert code == 0, err


def test_lock_in_process_refuses_a_second_taker_and_releases(tmp_path):
    state = tmp_path / "s.sqlite3"
    held = StateLock(state).acquire()
    try:
        StateLock(state).acquire()
    except StateError as exc:
        assert "in use by another farmhand" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("a second lock on the same state was granted")
    held.release()
    StateLock(state).acquire().release()
