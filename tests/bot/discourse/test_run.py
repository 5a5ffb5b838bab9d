"""`farmhand run` as a real process against the sandbox forum: start-up errors, kill -9, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.state import Store
from tests.bot.discourse.conftest import ON_TOPIC, ON_TOPIC_TITLE, bot_replies

ROOT = Path(__file__).resolve().parents[3]


def _config(tmp_path: Path, url: str, *, request_timeout: float = 10) -> Path:
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {tmp_path / 'state' / 'state.sqlite3'}\n"
        "mode: live\n"
        "discourse:\n"
        f"  url: {url}\n"
        "  api_username: farmhand\n"
        "  poll_seconds: 0.1\n"
        f"  request_timeout: {request_timeout}\n"
        # the sandbox never works on a request after answering it
        "  forum_request_timeout: 0\n"
    )
    return cfg


def _start(cfg: Path, key: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARMHAND_")}
    if key is not None:
        env["FARMHAND_DISCOURSE_API_KEY"] = key
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "-c", str(cfg)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(pred, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def _polls(forum) -> int:
    return sum(1 for m, p, _s in list(forum.requests) if m == "GET" and p == "/posts.json")


def _exit(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for a process that must exit by itself."""
    _out, err = proc.communicate(timeout=30)
    return proc.returncode, err


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return proc.returncode, err


def test_kill_9_between_posted_and_recorded_then_restart_posts_once(forum, tmp_path):
    # The restart looks in the topic request_timeout (+ the forum's own, 0 here) after the claim.
    cfg = _config(tmp_path, forum.url, request_timeout=2)
    state = tmp_path / "state" / "state.sqlite3"
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: _polls(forum) >= 3), "the bot did not start polling"
        forum.hold_posts(1.5)  # the reply is stored, the bot waits for the answer...
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert _wait(lambda: len(bot_replies(forum, topic["topic_id"])) == 1, 15)
        proc.kill()  # ...and dies before it can record it
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    store = Store(state)
    key = f"post:{topic['id']}"
    assert store.claim_state("discourse", key) == "claimed"  # posted, not recorded: the awkward moment
    forum.hold_posts(0)

    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: store.claim_state("discourse", key) == "posted", 20)
        polls = _polls(forum)
        assert _wait(lambda: _polls(forum) >= polls + 3)
    finally:
        code, err = _stop(proc)
    store.close()
    assert code == 0, err
    replies = bot_replies(forum, topic["topic_id"])
    assert len(replies) == 1
    assert "not posting again" in err


def test_kill_9_after_claim_before_post_then_restart_posts(forum, tmp_path):
    """A claim without a post (killed before the POST left): the restart checks the topic and posts once."""
    cfg = _config(tmp_path, forum.url)
    state = tmp_path / "state" / "state.sqlite3"
    forum.inject("503", count=1000, path="/posts", method="POST")  # every reply attempt fails
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: _polls(forum) >= 2)
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        key = f"post:{topic['id']}"
        probe = Store(state)
        assert _wait(lambda: probe.claim_state("discourse", key) == "claimed")
        probe.close()
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    forum._faults.clear()
    assert bot_replies(forum) == []
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: len(bot_replies(forum, topic["topic_id"])) == 1)
        polls = _polls(forum)
        assert _wait(lambda: _polls(forum) >= polls + 3)
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert len(bot_replies(forum, topic["topic_id"])) == 1


def test_wrong_api_key_is_one_line_and_exit_1(forum, tmp_path):
    proc = _start(_config(tmp_path, forum.url), "not-the-key")
    code, err = _exit(proc)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "refused the API key" in lines[0]
    assert "not-the-key" not in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthz(port: int) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return None


def test_forum_down_at_start_up_is_waited_out_then_the_backlog_is_answered(forum, tmp_path):
    """Down at start-up: no exit; /healthz 503 with the reason; one log line each way; catch-up."""
    port = _free_port()
    cfg = _config(tmp_path, forum.url)
    cfg.write_text(cfg.read_text() + f"http:\n  listen: 127.0.0.1:{port}\n")
    forum.go_down()
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: (_healthz(port) or (0,))[0] == 503, 20), "no /healthz while the forum is down"
        _status, body = _healthz(port)
        reason = body["platforms"]["discourse"]["last_error"]
        assert body["platforms"]["discourse"]["connected"] is False and "unreachable at start-up" in reason
        time.sleep(1.5)  # several retries
        assert proc.poll() is None, "the bot exited on an outage"
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)  # asked during the outage
        forum.come_up()
        assert _wait(lambda: len(bot_replies(forum, topic["topic_id"])) == 1, 30)
        assert _wait(lambda: (_healthz(port) or (0,))[0] == 200, 10)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        assert 'farmhand_platform_up{platform="discourse"} 1.0' in metrics
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert len(bot_replies(forum, topic["topic_id"])) == 1
    assert sum("unreachable at start-up" in line for line in err.splitlines()) == 1, err
    assert sum("reachable again" in line for line in err.splitlines()) == 1
    assert "Traceback" not in err


def test_missing_secret_names_the_variable(forum, tmp_path):
    proc = _start(_config(tmp_path, forum.url), None)
    code, err = _exit(proc)
    assert code == 2
    assert "FARMHAND_DISCOURSE_API_KEY" in err and err.count("\n") == 1


@pytest.mark.parametrize("mode", ["shadow"])
def test_shadow_mode_process_posts_nothing(forum, tmp_path, mode):
    cfg = _config(tmp_path, forum.url)
    cfg.write_text(cfg.read_text().replace("mode: live", f"mode: {mode}"))
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: _polls(forum) >= 2)
        forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        polls = _polls(forum)
        assert _wait(lambda: _polls(forum) >= polls + 3)
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert bot_replies(forum) == []
    assert "[shadow]" in err


def test_kill_9_after_the_reply_was_enqueued_then_restart_does_not_enqueue_again(forum, tmp_path):
    """The forum queued the reply for approval and the bot died before recording it."""
    cfg = _config(tmp_path, forum.url, request_timeout=2)  # the restart re-checks 2 s after the claim
    state = tmp_path / "state" / "state.sqlite3"
    forum.require_approval("farmhand")
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: _polls(forum) >= 3), "the bot did not start polling"
        forum.hold_posts(1.5)
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert _wait(lambda: len(forum.pending()) == 1, 15)
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    store = Store(state)
    key = f"post:{topic['id']}"
    assert store.claim_state("discourse", key) == "claimed"
    forum.hold_posts(0)
    proc = _start(cfg, forum.api_key)
    try:
        assert _wait(lambda: store.claim_state("discourse", key) == "posted", 20)
        polls = _polls(forum)
        assert _wait(lambda: _polls(forum) >= polls + 5)
    finally:
        code, err = _stop(proc)
    store.close()
    assert code == 0, err
    assert len(forum.pending()) == 1 and bot_replies(forum) == []
    assert "already holds my reply for approval" in err


def test_an_admin_account_is_one_line_and_exit_1(forum, tmp_path):
    forum.set_role("farmhand", admin=True)
    proc = _start(_config(tmp_path, forum.url), forum.api_key)
    code, err = _exit(proc)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(lines) == 1 and "is an admin" in lines[0] and "moderator" in lines[0]
    assert "Traceback" not in err


def test_a_key_refused_after_a_start_up_outage_still_exits_with_one_line(forum, tmp_path):
    forum.go_down()
    proc = _start(_config(tmp_path, forum.url), "not-the-key")
    time.sleep(1.0)
    assert proc.poll() is None  # waiting for the forum, not exiting
    forum.come_up()
    code, err = _exit(proc)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(lines) == 1 and "refused the API key" in lines[0]
    assert "not-the-key" not in err and "Traceback" not in err
