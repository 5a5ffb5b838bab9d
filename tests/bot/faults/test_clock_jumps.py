"""Finding 12: a clock 100 days ahead must not empty the audit log; a mass expiry is gradual and logged."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.service import _prune_loop
from bot.state import PRUNE_MIN_BATCH, Store

ROW = dict(platform="discourse", where="1", author_id="u", kind="new_topic", action="silent", entry=None)
ROW |= dict(score=0.1, reason="off topic", verdict=None, mode="live", url=None, posted=False)


def _rows(store: Store) -> list[str]:
    return [r.item_id for r in store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))]


async def _one_pass(store: Store, days: int, now: datetime) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(_prune_loop(store, days, stop, clock=lambda: now))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=2)


async def test_start_with_the_clock_100_days_ahead_keeps_the_log(tmp_path, caplog):
    store = Store(tmp_path / "state.sqlite3")
    for i in range(30):
        store.record_decision(item_id=f"recent-{i}", **ROW)
    store.record_decision(item_id="ancient", **ROW)
    store._db.execute("UPDATE decisions SET at = at - 200 * 86400 WHERE item_id = 'ancient'")
    caplog.set_level(logging.INFO, logger="bot.service")
    await _one_pass(store, 90, datetime.now(UTC) + timedelta(days=100))
    # Only the row older than 90 days before the newest row goes; the recent ones stay.
    assert _rows(store) == [f"recent-{i}" for i in range(30)]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "kept 30 rows" in warned[0] and "clock" in warned[0]
    store.close()


def test_one_pass_never_deletes_more_than_half_of_a_large_log(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    total = 4 * PRUNE_MIN_BATCH
    for i in range(total):
        store.record_decision(item_id=str(i), **ROW)
    store._db.execute(
        "UPDATE decisions SET at = at - 100 * 86400 WHERE CAST(item_id AS INTEGER) < ?", (total - 1,)
    )
    first = store.prune_decisions(timedelta(days=30))
    assert first.removed == total // 2 and first.held_back == total // 2 - 1
    passes = 1
    while (done := store.prune_decisions(timedelta(days=30))).removed:
        assert done.removed <= max(PRUNE_MIN_BATCH, done.total // 2)
        passes += 1
    assert passes == 3 and done.held_back == 0  # the due rows all go, over a few passes
    assert _rows(store) == [str(total - 1)]
    store.close()


async def test_a_held_back_pass_says_so_in_one_line(tmp_path, caplog):
    store = Store(tmp_path / "state.sqlite3")
    for i in range(3 * PRUNE_MIN_BATCH):
        store.record_decision(item_id=str(i), **ROW)
    store._db.execute("UPDATE decisions SET at = at - 100 * 86400 WHERE CAST(item_id AS INTEGER) > 0")
    store._db.execute("UPDATE decisions SET at = at + 1 WHERE item_id = '0'")
    caplog.set_level(logging.INFO, logger="bot.service")
    await _one_pass(store, 30, datetime.now(UTC))
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "removed 150 this pass" in warned[0], warned
    assert len(_rows(store)) == 3 * PRUNE_MIN_BATCH - 150
    store.close()
