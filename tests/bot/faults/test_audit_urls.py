"""Finding 8: the audit log keeps /t/{id}/{post_number}, never the slug (a title); old rows are migrated."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

from bot.state import _MIGRATIONS, SCHEMA_VERSION, Store, audit_url
from tests.bot.faults.conftest import ON_TOPIC, ROOT, polls, start, stop, wait_for, write_config

PRIVATE_TITLE = "Jane Roe at 12 Baker Street: can I farm in a Proxmox VM?"
ROW = dict(platform="discourse", where="42", item_id="9", author_id="u", kind="new_topic", action="answer")
ROW |= dict(entry="vm-farming", score=0.9, reason="on topic", verdict=None, mode="live", posted=True)


def _all(store: Store):
    return store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))


def test_a_real_run_stores_no_slug(forum, tmp_path):
    cfg = write_config(tmp_path, forum.url)
    proc = start(cfg, forum.api_key)
    try:
        assert wait_for(lambda: polls(forum) >= 2)
        topic = forum.create_topic("alice", PRIVATE_TITLE, ON_TOPIC)
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    store = Store(tmp_path / "state" / "state.sqlite3")
    urls = [r.url for r in _all(store) if r.url]
    store.close()
    assert urls == [f"{forum.url}/t/{topic['topic_id']}/1"]


def _v1_state(path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for stmt in _MIGRATIONS[1]:
        db.execute(stmt)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO decisions (at, platform, where_, item_id, author_id, kind, action, entry, score, reason, "
        "verdict, mode, url, posted) VALUES (?, 'discourse', '42', '9', 'u', 'pm', 'answer', 'vm-farming', "
        "0.9, 'on topic', NULL, 'live', ?, 1)",
        (datetime.now(UTC).timestamp(), "https://forum.example.org/t/jane-roe-at-12-baker-street/42/3"),
    )
    db.close()


def test_existing_rows_are_migrated_and_report_prints_no_slug(tmp_path):
    state = tmp_path / "state.sqlite3"
    _v1_state(state)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state_path: {state}\nmode: live\n")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "-c", str(cfg), "--since", "1d"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "https://forum.example.org/t/42/3" in out.stdout
    assert "baker" not in out.stdout.lower() and "jane" not in out.stdout.lower()
    store = Store(state)
    assert store.schema_version == SCHEMA_VERSION >= 2
    assert [r.url for r in _all(store)] == ["https://forum.example.org/t/42/3"]
    raw = store._db.execute("SELECT url FROM decisions").fetchall()
    store.close()
    assert raw == [("https://forum.example.org/t/42/3",)]


def test_new_rows_lose_slug_and_credentials(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    store.record_decision(url="https://bot:hunter22@forum.example.org/t/jane-roe/42/3?u=jane#reply", **ROW)
    assert [r.url for r in _all(store)] == ["https://forum.example.org/t/42/3"]
    store.close()
    assert audit_url("https://discord.com/channels/1/2/3") == "https://discord.com/channels/1/2/3"
    assert audit_url("https://forum.example.org/t/42/3") == "https://forum.example.org/t/42/3"
