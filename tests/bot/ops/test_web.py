"""The HTTP listener: /healthz, /metrics, extra routes, and a clear error for a taken port."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from bot.config import HttpConfig
from bot.ops import metrics
from bot.ops.health import Health
from bot.web import HttpListenError, bound_port, start_http


@pytest.fixture
async def served():
    health = Health()

    async def hook(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.text()})

    runner = await start_http(HttpConfig(port=0), health, [web.post("/webhooks/test", hook)])
    base = f"http://127.0.0.1:{bound_port(runner)}"
    async with aiohttp.ClientSession() as session:
        yield health, session, base
    await runner.cleanup()


async def test_healthz_is_503_until_every_platform_is_connected(served):
    health, session, base = served
    health.register("discourse")
    health.register("discord")
    health.ok("discourse")
    async with session.get(f"{base}/healthz") as resp:
        body = await resp.json()
        assert resp.status == 503
    assert body["ok"] is False
    assert body["platforms"]["discourse"]["connected"] is True
    assert body["platforms"]["discourse"]["last_ok"] is not None
    assert body["platforms"]["discord"]["connected"] is False

    health.ok("discord")
    health.error("discord", "gateway: 502 Bad Gateway\nsecond line dropped")
    async with session.get(f"{base}/healthz") as resp:
        body = await resp.json()
        assert resp.status == 200
    assert body["ok"] is True
    assert body["platforms"]["discord"]["last_error"] == "gateway: 502 Bad Gateway"

    health.error("discord", "gateway closed", disconnected=True)
    async with session.get(f"{base}/healthz") as resp:
        assert resp.status == 503


async def test_metrics_serves_prometheus_text(served):
    _health, session, base = served
    metrics.record_decision("discourse", "answer", "vm-farming")
    metrics.VERDICTS.labels(kind="virtual").inc()
    metrics.REPLY_LATENCY.labels(platform="discourse").observe(3.2)
    async with session.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    assert 'farmhand_decisions_total{entry="vm-farming",outcome="answer",platform="discourse"}' in text
    assert 'farmhand_verdicts_total{kind="virtual"}' in text
    assert "farmhand_post_to_reply_seconds_bucket" in text
    assert "farmhand_replies_posted_total" in text and "farmhand_platform_errors_total" in text


async def test_extra_routes_are_served(served):
    _health, session, base = served
    async with session.post(f"{base}/webhooks/test", data=b"ping") as resp:
        assert resp.status == 200
        assert await resp.json() == {"got": "ping"}
    async with session.get(f"{base}/nope") as resp:
        assert resp.status == 404


async def test_taken_port_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HttpListenError) as err:
            await start_http(HttpConfig(port=port), Health())
    msg = str(err.value)
    assert msg == f"http: cannot listen on 127.0.0.1:{port}: address already in use"
    assert "\n" not in msg


async def test_listens_on_loopback_by_default():
    runner = await start_http(HttpConfig(port=0), Health())
    try:
        hosts = {addr[0] for addr in runner.addresses}
        assert hosts == {"127.0.0.1"}
    finally:
        await runner.cleanup()
