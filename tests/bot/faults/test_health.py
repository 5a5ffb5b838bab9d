"""Finding 3: /healthz reflects what users see (real processes), and the state is checked at start-up."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from bot.ops.health import REPLY_FAILURES_UNHEALTHY, Health
from bot.state import Store
from tests.bot.faults.conftest import (
    ON_TOPIC,
    ON_TOPIC_TITLE,
    ROOT,
    exit_of,
    polls,
    start,
    stop,
    wait_for,
    write_config,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthz(port: int) -> tuple[int | None, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return None, {}


def _problems(port: int) -> list[str]:
    _code, body = _healthz(port)
    return body.get("platforms", {}).get("discourse", {}).get("problems", [])


def _run_with_http(forum, tmp_path):
    port = _free_port()
    cfg = write_config(tmp_path, forum.url, extra=f"http:\n  listen: 127.0.0.1:{port}\n")
    return start(cfg, forum.api_key), port


def test_revoked_api_key_makes_healthz_503_until_it_works_again(forum, tmp_path):
    proc, port = _run_with_http(forum, tmp_path)
    good = forum.api_key
    try:
        assert wait_for(lambda: _healthz(port)[0] == 200)
        forum.api_key = "revoked-by-an-admin"  # every poll now gets 403
        assert wait_for(lambda: _healthz(port)[0] == 503, 10), _healthz(port)
        assert "credentials refused" in _problems(port)
        forum.api_key = good
        assert wait_for(lambda: _healthz(port)[0] == 200, 15), _healthz(port)
    finally:
        code, err = stop(proc)
    assert code == 0, err


def test_replies_failing_make_healthz_503_until_one_goes_out(forum, tmp_path):
    proc, port = _run_with_http(forum, tmp_path)
    try:
        assert wait_for(lambda: _healthz(port)[0] == 200)
        forum.inject("500", count=10_000, path="/posts", method="POST")  # every reply fails
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert wait_for(lambda: _healthz(port)[0] == 503, 20), _healthz(port)
        assert any("replies failed in a row" in p for p in _problems(port))
        forum._faults.clear()
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1, 30)
        assert wait_for(lambda: _healthz(port)[0] == 200, 10), _healthz(port)
    finally:
        code, err = stop(proc)
    assert code == 0, err


def _wal_state(path) -> int:
    """A state whose WAL holds uncheckpointed writes (as after kill -9); returns the WAL's size."""
    code = (
        "import os\nfrom bot.state import Store\n"
        f"s = Store({str(path)!r})\ns._db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "for i in range(100):\n    s.kv_set(f'k{i}', 'x' * 3000)\nos._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return os.path.getsize(f"{path}-wal")


def test_a_state_that_cannot_be_written_stops_the_start(forum, tmp_path):
    state = tmp_path / "state" / "state.sqlite3"
    state.parent.mkdir()
    limit = _wal_state(state)

    def disk_full() -> None:  # the state's files may not grow: writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    code, err = exit_of(start(write_config(tmp_path, forum.url), forum.api_key, preexec=disk_full))
    assert code == 1, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: ") and "cannot be written" in lines[-1], err
    assert "Traceback" not in err
    assert polls(forum) == 0  # refused before it answered anything it could not record


def test_failed_state_writes_make_health_unhealthy(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    health = Health()
    health.register("discourse")
    health.ok("discourse")
    store.on_write = health.state_write
    store.kv_set("a", "1")
    assert health.snapshot()["ok"] is True
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    for i in range(2):
        try:
            store.kv_set(f"big{i}", "x" * 100_000)
        except Exception as exc:  # the caller sees the error as before
            assert "full" in str(exc)
    snap = health.snapshot()
    assert snap["ok"] is False and "state writes failed in a row" in snap["state"]["problems"][0]
    store._db.execute("PRAGMA max_page_count = 1000000")
    store.kv_set("b", "2")
    assert health.snapshot()["ok"] is True
    store.close()


def test_a_stale_poll_and_repeated_reply_failures_are_problems():
    now = [1000.0]
    health = Health(clock=lambda: now[0])
    health.register("discourse", stale_after=30)
    health.ok("discourse")
    now[0] += 29
    assert health.snapshot()["ok"] is True
    now[0] += 2
    problems = health.snapshot()["platforms"]["discourse"]["problems"]
    assert problems == ["31 s since the last successful poll"]
    health.ok("discourse")
    for _ in range(REPLY_FAILURES_UNHEALTHY - 1):
        health.error("discourse", "reply to post 5 failed: 500", kind="reply")
        health.ok("discourse")  # polls keep working; that does not hide failing replies
    assert health.snapshot()["ok"] is True
    health.error("discourse", "reply to post 5 failed: 500", kind="reply")
    assert health.snapshot()["ok"] is False
    health.success("discourse", "reply")
    assert health.snapshot()["ok"] is True
    # Never polled successfully since start: stale as well.
    fresh = Health(clock=lambda: now[0])
    fresh.register("discourse", stale_after=30)
    fresh.connected("discourse", True)
    now[0] += 31
    assert fresh.snapshot()["ok"] is False
