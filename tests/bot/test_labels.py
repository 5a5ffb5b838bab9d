"""Labels in the state: masked text, the training export, purge, and schema migration from version 1."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot import labels
from bot.cli import main as cli
from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY
from bot.state import SCHEMA_VERSION, Store
from knowledge.train import read_jsonl


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.sqlite3")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _restore_root_logging():
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _config(tmp_path, state):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {state}\ndiscourse:\n  url: https://forum.example.org\n  api_username: farmhand\n",
        encoding="utf-8",
    )
    return cfg


def test_mask_text_hides_addresses_links_mentions_and_serials():
    text = (
        "my box at 192.168.1.20 (mail me: jo.doe@example.org, or ping <@123456789012345678> / @alice)\n"
        "see https://forum.example.org/t/secret/12\nSerial Number: ABC123XYZ\nproxmox vm, can I farm?"
    )
    out = labels.mask_text(text)
    for secret in ("192.168.1.20", "jo.doe@example.org", "123456789012345678", "@alice", "secret/12", "ABC123XYZ"):
        assert secret not in out
    assert "proxmox vm, can I farm?" in out
    assert len(labels.mask_text("x" * 100_000)) == labels.MAX_LABEL_CHARS


def test_labels_export_is_training_jsonl_latest_decision_wins(store, tmp_path, monkeypatch, capsys):
    labels.record(store, platform="discord", item_id="m1", text="proxmox VM farm? ip 10.0.0.7",
                  decision="send", decided_by="mod1", entry="vm-farming", author_id="alice")
    labels.record(store, platform="discourse", item_id="p9", text="terraform deploy on the grid fails",
                  decision="not_this", decided_by="mod2", entry="vm-farming", author_id="bob")
    labels.record(store, platform="discord", item_id="m1", text="proxmox VM farm? ip 10.0.0.7",
                  decision="other", decided_by="mod2", entry="rented-servers", author_id="alice")
    stored = store.labels()
    assert [lab.decision for lab in stored] == ["send", "not_this", "other"]
    assert "10.0.0.7" not in stored[0].text
    assert stored[1].entry is None  # a negative label names no entry

    monkeypatch.delenv(ENV_DISCOURSE_KEY, raising=False)
    monkeypatch.delenv(ENV_DISCORD_TOKEN, raising=False)
    out = tmp_path / "labels.jsonl"
    assert cli(["labels", "export", "-c", str(_config(tmp_path, store.path)), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["label"], r["entry"]) for r in rows] == [
        ("label-discourse-p9", "other", None),
        ("label-discord-m1", "vm_farming", "rented-servers"),
    ]
    # The trainer reads the export as it is.
    examples = read_jsonl(out, "labels.jsonl")
    assert [(e.y, e.entry) for e in examples] == [(0, None), (1, "rented-servers")]
    # stdout by default
    assert cli(["labels", "export", "-c", str(_config(tmp_path, store.path))]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")


def test_purge_removes_a_persons_labels_and_triage_items(store):
    labels.record(store, platform="discord", item_id="m1", text="vm farm?", decision="send",
                  decided_by="mod1", entry="vm-farming", author_id="alice")
    labels.record(store, platform="discord", item_id="m2", text="vps farm?", decision="send",
                  decided_by="mod1", entry="vm-farming", author_id="bob")
    store.triage_add(platform="discord", item_id="m1", text="vm farm?", entry="vm-farming", score=0.4,
                     author_id="alice")
    store.triage_add(platform="discord", item_id="m2", text="vps farm?", entry="vm-farming", score=0.4,
                     author_id="bob")
    assert store.triage_decide("discord", "m2", by="alice", decision="send")
    assert store.purge_user("alice") == 3  # her label, her triage item, her name on bob's item
    assert [lab.item_id for lab in store.labels()] == ["m2"]
    left = store.triage_items("discord")
    assert [(t.item_id, t.decided_by) for t in left] == [("m2", "")]
    assert store.purge_user("mod1") == 1
    assert store.labels() == []


def test_triage_decide_is_first_come_only_and_numbers_count_up(store):
    a = store.triage_add(platform="discourse", item_id="11", text="t", entry="vm-farming", score=0.5)
    b = store.triage_add(platform="discourse", item_id="12", text="t", entry="vm-farming", score=0.5)
    assert (a.number, b.number) == (1, 2)
    assert store.triage_add(platform="discourse", item_id="11", text="t", entry=None, score=0.1) is None
    assert store.triage_decide("discourse", "11", by="m1", decision="send")
    assert not store.triage_decide("discourse", "11", by="m2", decision="not_this")
    assert store.triage_get("discourse", number=1).decided_by == "m1"


def test_a_version_1_state_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL)")
    db.execute("INSERT INTO cursors VALUES ('discourse:posts', '41', 0)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION >= 2
    assert s.get_cursor("discourse:posts") == "41"
    assert s.labels() == []
    s.close()


def test_report_shows_triage_numbers(store, tmp_path, monkeypatch, capsys):
    import time as _time

    clock = [1_000_000.0]
    monkeypatch.setattr(_time, "time", lambda: clock[0])
    for n in range(4):
        store.triage_add(platform="discord", item_id=f"m{n}", text="vm farm?", entry="vm-farming", score=0.6)
    store.triage_add(platform="discourse", item_id="p1", text="vps farm?", entry="vm-farming", score=0.5)
    store.triage_shown("discord", ["m0", "m1", "m2", "m3"], "999")
    clock[0] += 600
    store.triage_decide("discord", "m0", by="mod", decision="send")
    clock[0] += 600
    store.triage_decide("discord", "m1", by="mod", decision="not_this")
    store.triage_decide("discord", "m2", by="mod", decision="send")
    labels.record(store, platform="discord", item_id="m9", text="x farm", decision="removed", decided_by="alice")
    labels.record(store, platform="discord", item_id="m8", text="y farm", decision="called", decided_by="mod",
                  entry="vm-farming")
    monkeypatch.undo()

    monkeypatch.delenv(ENV_DISCOURSE_KEY, raising=False)
    monkeypatch.delenv(ENV_DISCORD_TOKEN, raising=False)
    assert cli(["report", "-c", str(_config(tmp_path, store.path)), "--since", "36500d"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("## Triage"):]
    assert "| sent to triage | 5 |" in section
    assert "| waiting for the next batch (Discourse) | 1 |" in section
    assert "| open (shown, not decided) | 1 |" in section
    assert "| decided | 3 |" in section
    assert "| time to decision, median | 20 min |" in section
    assert "| time to decision, longest | 20 min |" in section
    assert "| send | 2 | 67 % |" in section and "| not_this | 1 | 33 % |" in section
    assert "| auto-replies removed (🗑, deleted) | 1 |" in section
    assert "| explicit calls on posts the bot stayed silent on | 1 |" in section
