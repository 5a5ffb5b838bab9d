"""Finding 9: big dumps are analysed off the event loop (worker processes, a few at a time); big text is cut first."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
import tracemalloc
import urllib.request

from aiohttp import web

from bot.core.engine import ANALYSIS_WORKERS, Engine
from bot.core.models import Attachment, Author, Event, EventKind
from bot.ops.health import Health
from bot.web import bound_port, build_app
from knowledge import default_kb

# A paste with a prompt on every line: the slow shape for the detector (~1 MB).
PROMPTED = "".join(
    f"root@node:~# cat /proc/cpuinfo | grep flags # {i}\nflags : fpu vme de pse\n" for i in range(14_000)
)


def _event(i: int, **kw) -> Event:
    base = dict(
        platform="discord",
        kind=EventKind.PRIVATE,
        where="dm",
        item_id=str(i),
        author=Author(id="u1", name="someone"),
        text="is this a vm?",
    )
    return Event(**(base | kw))


async def test_eight_big_attachments_do_not_stall_healthz():
    engine = Engine(default_kb())
    health = Health()
    health.register("discord")
    health.ok("discord")
    runner = web.AppRunner(build_app(health), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
    latencies: list[float] = []
    workers_seen: list[int] = []
    done = threading.Event()

    errors: list[str] = []

    def probe() -> None:
        while not done.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    r.read()
            except OSError as exc:  # a refused or reset probe is a stall too: report it, don't die
                errors.append(repr(exc))
            latencies.append(time.monotonic() - t)
            workers_seen.append(len(multiprocessing.active_children()))
            time.sleep(0.02)

    blob = PROMPTED.encode()
    assert len(blob) > 1_000_000
    events = [
        _event(i, attachments=(Attachment("dump.txt", len(blob), blob, "text/plain"),)) for i in range(8)
    ]
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        started = time.monotonic()
        decisions = await asyncio.gather(*(engine.decide_async(e) for e in events))
        elapsed = time.monotonic() - started
    finally:
        done.set()
        await asyncio.to_thread(prober.join)  # not prober.join(): a probe in flight needs this loop
        await runner.cleanup()
    assert all(d.verdict is not None for d in decisions)
    assert decisions[0].verdict == engine.decide(events[0]).verdict  # the same verdict as in-process
    assert elapsed > 0.5, "the dumps were too quick to show anything"
    assert len(latencies) >= 5
    assert not errors, errors
    # Docker gives /healthz 5 s; on the loop this took seconds (4.7 s in the report).
    assert max(latencies) < 1.0, (
        f"healthz stalled: {max(latencies):.2f} s while analysing for {elapsed:.1f} s"
    )
    assert max(workers_seen) <= ANALYSIS_WORKERS


async def test_small_events_are_decided_inline_and_the_same():
    engine = Engine(default_kb())
    event = _event(
        1, kind=EventKind.NEW_TOPIC, text="Can I farm ThreeFold in a Proxmox VM and still get rewards?"
    )
    assert (await engine.decide_async(event)).action == engine.decide(event).action


def test_a_huge_post_is_cut_before_it_is_encoded():
    engine = Engine(default_kb(), max_dump_bytes=1_000_000)
    event = _event(1, text="dmesg line with some words\n" * 1_200_000)  # ~32 MB of text
    tracemalloc.start()
    try:
        _prose, _dump, notes = engine._split(event)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "text cut to the first 1000000 bytes" in notes
    assert peak < 8_000_000, f"peak {peak / 1e6:.0f} MB for a 1 MB limit"


def test_cutting_multibyte_text_keeps_to_the_byte_limit():
    engine = Engine(default_kb(), max_dump_bytes=1000)
    prose, dump, notes = engine._split(_event(1, text="ü" * 5000))
    assert notes and len((prose + dump).encode()) <= 1000


def test_a_real_run_judges_a_big_pasted_dump_in_a_worker(forum, tmp_path):
    from tests.bot.faults.conftest import polls, start, stop, wait_for, write_config

    proc = start(write_config(tmp_path, forum.url), forum.api_key)
    dmi = "Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: QEMU\n\tProduct Name: Standard PC\n"
    body = "Is my node virtualized? Here is my dump:\n\n```\n" + dmi + PROMPTED[:60_000] + "```\n"
    try:
        assert wait_for(lambda: polls(forum) >= 2)
        topic = forum.create_topic("alice", "Is my ThreeFold node running in a VM?", body)
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1, 30)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    reply = forum.posts(topic_id=topic["topic_id"], username="farmhand")[0]
    assert "qemu" in reply["raw"].lower() or "virtual" in reply["raw"].lower()
    assert "engine error" not in err and "Traceback" not in err
