"""Service housekeeping: the audit log keeps to its retention."""

import asyncio
from datetime import UTC, datetime

from bot.service import _prune_loop
from bot.state import Store


async def test_prune_loop_removes_rows_past_retention_then_stops(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    common = dict(platform="discourse", where="1", author_id="u", kind="new_topic", action="silent")
    common |= dict(
        entry=None, score=0.1, reason="off topic", verdict=None, mode="live", url=None, posted=False
    )
    store.record_decision(item_id="old", **common)
    store._db.execute("UPDATE decisions SET at = at - 31 * 86400")
    store.record_decision(item_id="new", **common)
    stop = asyncio.Event()
    task = asyncio.create_task(_prune_loop(store, 30, stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert [r.item_id for r in store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))] == ["new"]
    store.close()
