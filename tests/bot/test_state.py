"""The SQLite state: claims, cursors, audit log, opt-outs, schema versioning, crash durability."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.state import SCHEMA_VERSION, StateError, Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "sub" / "state.sqlite3")
    yield s
    s.close()


def _decision(store, **over):
    fields = dict(
        platform="discourse",
        where="12",
        item_id="34",
        author_id="u1",
        kind="new_topic",
        action="answer",
        entry="vm-farming",
        score=0.9,
        reason="on topic: vm-farming (0.90)",
        verdict=None,
        mode="live",
        url="http://forum/t/12",
        posted=True,
    )
    fields.update(over)
    store.record_decision(**fields)


def test_creates_file_parent_dir_wal_and_schema_version(tmp_path):
    path = tmp_path / "a" / "b" / "state.sqlite3"
    s = Store(path)
    assert path.exists()
    assert s.schema_version == SCHEMA_VERSION
    s.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_reopen_keeps_data_and_does_not_remigrate(tmp_path):
    path = tmp_path / "state.sqlite3"
    s = Store(path)
    s.set_cursor("discourse:posts", "41")
    s.close()
    s2 = Store(path)
    assert s2.get_cursor("discourse:posts") == "41"
    s2.close()


def test_newer_schema_is_refused_with_one_line(tmp_path):
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StateError, match="newer than this farmhand") as err:
        Store(path)
    assert "\n" not in str(err.value)


def test_not_a_database_is_a_state_error(tmp_path):
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StateError, match="cannot use the state file"):
        Store(path)


def test_claim_is_true_only_once_and_survives_reopen(tmp_path):
    path = tmp_path / "state.sqlite3"
    s = Store(path)
    assert s.claim("discourse", "post:7", where="3") is True
    assert s.claim("discourse", "post:7", where="3") is False
    assert s.claim("discord", "post:7") is True  # keys are per platform
    assert s.claim_state("discourse", "post:7") == "claimed"
    s.close()
    s2 = Store(path)
    assert s2.claim("discourse", "post:7") is False
    assert s2.claim_state("discourse", "post:7") == "claimed"
    s2.close()


def test_mark_posted_and_release(store):
    assert store.claim_state("discourse", "k") is None
    store.claim("discourse", "k")
    store.mark_posted("discourse", "k", "991")
    assert store.claim_state("discourse", "k") == "posted"
    store.release("discourse", "k")  # release never drops a posted claim
    assert store.claim_state("discourse", "k") == "posted"
    store.claim("discourse", "j")
    store.release("discourse", "j")
    assert store.claim_state("discourse", "j") is None
    assert store.claim("discourse", "j") is True


def test_mark_posted_without_claim_records_it(store):
    store.mark_posted("discourse", "found-on-forum", "5")
    assert store.claim_state("discourse", "found-on-forum") == "posted"
    assert store.claim("discourse", "found-on-forum") is False


def test_cursor_and_kv(store):
    assert store.get_cursor("x") is None
    store.set_cursor("x", "10")
    store.set_cursor("x", "12")
    assert store.get_cursor("x") == "12"
    assert store.kv_get("sync") is None
    store.kv_set("sync", "abc")
    store.kv_set("sync", "def")
    assert store.kv_get("sync") == "def"


def test_audit_log_round_trip_and_since(store):
    before = datetime.now(UTC) - timedelta(seconds=1)
    _decision(store)
    _decision(
        store,
        item_id="35",
        action="silent",
        entry=None,
        score=0.1,
        reason="off topic\nsecond line",
        posted=False,
    )
    rows = store.decisions_since(before)
    assert [r.item_id for r in rows] == ["34", "35"]
    assert rows[0].entry == "vm-farming" and rows[0].posted is True and rows[0].score == pytest.approx(0.9)
    assert rows[1].reason == "off topic"  # one line only
    assert rows[1].posted is False and rows[1].action == "silent"
    assert store.decisions_since(datetime.now(UTC) + timedelta(seconds=5)) == []
    naive = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5)
    assert len(store.decisions_since(naive)) == 2


def test_audit_log_has_no_text_column(store):
    cols = {r[1] for r in store._db.execute("PRAGMA table_info(decisions)")}
    assert not cols & {"text", "raw", "body", "content", "dump"}


def test_opt_out_and_purge(store):
    store.set_opt_out("discord", "u1", True)
    store.set_opt_out("discord", "u1", True)
    assert store.is_opted_out("discord", "u1")
    assert not store.is_opted_out("discourse", "u1")
    _decision(store, author_id="u1")
    _decision(store, author_id="u1", item_id="99")
    _decision(store, author_id="u2")
    assert store.purge_user("u1") == 3
    assert not store.is_opted_out("discord", "u1")
    assert [r.author_id for r in store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))] == ["u2"]
    store.set_opt_out("discord", "u2", True)
    store.set_opt_out("discord", "u2", False)
    assert not store.is_opted_out("discord", "u2")


def test_purge_also_forgets_who_asked_for_a_reply(store):
    store.kv_set("discord:reply-asker:555", "u7")
    store.kv_set("discord:reply-asker:556", "u8")
    store.kv_set("discord:commands_hash", "u7")  # same value, different kind of key: kept
    assert store.purge_user("u7") == 1
    assert store.kv_get("discord:reply-asker:555") is None
    assert store.kv_get("discord:reply-asker:556") == "u8"
    assert store.kv_get("discord:commands_hash") == "u7"


def test_prune_decisions_drops_only_rows_older_than_the_limit(store):
    _decision(store, item_id="old")
    store._db.execute("UPDATE decisions SET at = at - 100 * 86400 WHERE item_id = 'old'")
    _decision(store, item_id="new")
    assert store.prune_decisions(timedelta(days=90)).removed == 1
    assert [r.item_id for r in store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))] == ["new"]


def test_claim_is_durable_across_kill_9(tmp_path):
    """A claim returned True is on disk even if the process dies right after."""
    path = tmp_path / "state.sqlite3"
    code = (
        "import os, signal, sys\n"
        "from bot.state import Store\n"
        f"s = Store({str(path)!r})\n"
        "assert s.claim('discourse', 'post:1')\n"
        "s.set_cursor('c', '5')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, timeout=30)
    assert proc.returncode == -9
    s = Store(path)
    assert s.claim_state("discourse", "post:1") == "claimed"
    assert s.get_cursor("c") == "5"
    s.close()


def test_answered_in_tracks_claims_per_topic(store):
    assert not store.answered_in("discourse", "12")
    store.claim("discourse", "post:5", where="12")
    assert store.answered_in("discourse", "12")
    assert not store.answered_in("discord", "12")
    store.mark_posted("discourse", "post:9", "77", where="13")
    assert store.answered_in("discourse", "13")


def test_pending_claims_lists_only_unsettled_claims_since(store, monkeypatch):
    import bot.state as state_mod

    clock = [1_000.0]
    monkeypatch.setattr(state_mod.time, "time", lambda: clock[0])
    store.claim("discord", "msg:old", where="1")
    clock[0] = 2_000.0
    store.claim("discord", "msg:b", where="2")
    store.claim("discord", "msg:a", where="2")
    store.claim("discord", "msg:posted", where="3")
    store.mark_posted("discord", "msg:posted", "99")
    store.claim("discord", "msg:released", where="3")
    store.release("discord", "msg:released")
    store.claim("discourse", "post:1", where="7")
    clock[0] = 3_000.0
    store.claim("discord", "interaction:5", where="4")

    pending = store.pending_claims("discord", since=1_500.0)
    assert pending == [
        state_mod.PendingClaim(key="msg:a", where="2", claimed_at=2_000.0),
        state_mod.PendingClaim(key="msg:b", where="2", claimed_at=2_000.0),
        state_mod.PendingClaim(key="interaction:5", where="4", claimed_at=3_000.0),
    ]
    assert store.pending_claims("discord", since=0)[0].key == "msg:old"
    assert store.pending_claims("discord", since=3_000.5) == []
    assert [c.key for c in store.pending_claims("discourse", since=0)] == ["post:1"]
    with pytest.raises(AttributeError):
        pending[0].key = "x"  # type: ignore[misc]


def test_pending_claims_survive_reopen(tmp_path):
    path = tmp_path / "state.sqlite3"
    s = Store(path)
    s.claim("discord", "msg:1", where="10")
    s.close()
    s = Store(path)
    try:
        (claim,) = s.pending_claims("discord", since=0)
        assert (claim.key, claim.where) == ("msg:1", "10")
        s.mark_posted("discord", "msg:1", "2")
        assert s.pending_claims("discord", since=0) == []
    finally:
        s.close()


def test_a_schema_3_state_gains_retry_budgets_and_keeps_its_claims(tmp_path):
    """Schema 4 adds the retries table (a post's retry budget, kept across restarts)."""
    path = tmp_path / "state.sqlite3"
    s = Store(path)
    s.claim("discourse", "post:7", where="3")
    s._db.execute("DROP TABLE retries")
    s._db.execute("PRAGMA user_version = 3")  # as farmhand left it before schema 4
    s.close()
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION == 4
    assert s.claim_state("discourse", "post:7") == "claimed" and s.claimed_at("discourse", "post:7")
    assert s.retry_get("discourse", "post:7") is None
    s.retry_failed("discourse", "post:7", attempts=1, first_at=100.0, next_at=160.0, error="500", sent_at=99.0)
    s.retry_failed("discourse", "post:7", attempts=2, first_at=100.0, next_at=220.0, error="500\nmore")
    retry = s.retry_get("discourse", "post:7")
    assert (retry.attempts, retry.first_at, retry.next_at, retry.sent_at) == (2, 100.0, 220.0, None)
    assert retry.last_error == "500" and retry.set_aside_at is None
    assert s.retrying_count("discourse") == 1
    s.retry_failed("discourse", "post:7", attempts=3, first_at=100.0, next_at=0.0, error="500", set_aside=True)
    assert s.retry_get("discourse", "post:7").set_aside_at is not None and s.retrying_count("discourse") == 0
    s.retry_clear("discourse", "post:7")
    assert s.retry_get("discourse", "post:7") is None
    s.close()


def test_pruning_drops_the_retry_budgets_of_posts_set_aside_before_the_retention(tmp_path):
    s = Store(tmp_path / "state.sqlite3")
    try:
        s.retry_failed("discourse", "post:1", attempts=8, first_at=1.0, next_at=2.0, error="500", set_aside=True)
        s.retry_failed("discourse", "post:2", attempts=1, first_at=1.0, next_at=2.0, error="500")
        s._db.execute("UPDATE retries SET set_aside_at = 1000.0 WHERE key = 'post:1'")
        s.prune_decisions(timedelta(days=30), now=datetime.fromtimestamp(1000.0 + 31 * 86400, UTC))
        assert s.retry_get("discourse", "post:1") is None
        # one still being retried keeps its budget, whatever its age
        assert s.retry_get("discourse", "post:2") is not None
    finally:
        s.close()
