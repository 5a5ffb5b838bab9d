"""Recording a decision: one audit row without text, one log line with the reason, the metrics."""

import json
import logging
import re
from datetime import UTC, datetime

from bot.audit import record
from bot.core.models import Action, Author, Decision, Event, EventKind
from bot.logsetup import JsonFormatter
from bot.ops import metrics
from bot.state import Store
from knowledge.model import Match

SECRET_TEXT = "my serial is ZX81-SECRET and here is my question about proxmox"


def _event() -> Event:
    return Event(
        platform="discourse",
        kind=EventKind.NEW_TOPIC,
        where="12",
        item_id="345",
        author=Author(id="77", name="alice"),
        text=SECRET_TEXT,
        created_at=datetime.now(UTC),
        url="https://forum.example.org/t/12",
    )


def _count(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_record_writes_row_log_line_and_metrics(tmp_path, caplog):
    store = Store(tmp_path / "s.sqlite3")
    decision = Decision(
        Action.SILENT, "off topic (score 0.41 < 0.50)", match=Match(False, None, 0.41, candidate="vm-farming")
    )
    before = _count("farmhand_decisions_total", platform="discourse", outcome="silent", entry="-")
    with caplog.at_level(logging.INFO, logger="bot.audit"):
        record(store, _event(), decision, shadow=False, posted=False)

    [row] = store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert (row.item_id, row.author_id, row.entry, row.score, row.posted) == (
        "345",
        "77",
        "vm-farming",
        0.41,
        False,
    )
    assert "ZX81" not in repr(row)
    [line] = [r for r in caplog.records if r.name == "bot.audit"]
    assert "off topic (score 0.41 < 0.50)" in line.getMessage() and "ZX81" not in line.getMessage()
    as_json = json.loads(JsonFormatter().format(line))
    assert as_json["action"] == "silent" and as_json["entry"] == "vm-farming" and as_json["mode"] == "live"
    after = _count("farmhand_decisions_total", platform="discourse", outcome="silent", entry="-")
    assert after == before + 1
    store.close()


def test_posted_reply_counts_reply_and_latency(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    decision = Decision(
        Action.ANSWER, "on topic", match=Match(True, "vm-farming", 0.9, candidate="vm-farming")
    )
    replies = _count("farmhand_replies_posted_total", platform="discourse")
    latency = _count("farmhand_post_to_reply_seconds_count", platform="discourse")
    record(store, _event(), decision, shadow=False, posted=True)
    assert _count("farmhand_replies_posted_total", platform="discourse") == replies + 1
    assert _count("farmhand_post_to_reply_seconds_count", platform="discourse") == latency + 1
    store.close()


def test_the_audit_reason_says_why_the_matcher_decided():
    from bot.audit import why
    from knowledge import default_kb

    m = default_kb().match("my node says virtualized but it's a real dell r720, help")
    text = why(m)
    assert text.startswith(f"band {m.band}, p {m.score:.2f}")
    assert "veto" in text  # the support case is a veto, and the audit line says so
    m = default_kb().match("can I farm threefold with zos in a proxmox vm?")
    text = why(m)
    assert "band sure" in text
    # the strongest features, by name and signed weight
    assert re.search(r"(?:word|words|cue|cues) '[^']+' \+\d\.\d\d", text), text
