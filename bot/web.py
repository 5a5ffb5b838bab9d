"""The optional HTTP listener: GET /healthz, GET /metrics, plus routes adapters add (webhooks).

Bound to 127.0.0.1 by default (see `HttpConfig`): health and metrics say how busy the bot
is and when it last failed, which is nobody else's business; put a proxy in front to
expose them.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Sequence

from aiohttp import web

from bot.config import HttpConfig
from bot.ops import metrics
from bot.ops.health import Health

log = logging.getLogger(__name__)

HEALTH_KEY = web.AppKey("health", Health)


class HttpListenError(RuntimeError):
    """The listener could not start. The message is one line, fit to print after ``error: ``."""


async def _healthz(request: web.Request) -> web.Response:
    snap = request.app[HEALTH_KEY].snapshot()
    return web.json_response(snap, status=200 if snap["ok"] else 503)


async def _metrics(_request: web.Request) -> web.Response:
    # The exposition format's content type carries a version parameter, which aiohttp's
    # `content_type=` argument rejects, so it goes in as a raw header.
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})


def build_app(health: Health, extra_routes: Sequence[web.RouteDef] = ()) -> web.Application:
    """The aiohttp application behind `start_http` (separate so tests can drive it directly)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[HEALTH_KEY] = health
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_routes(list(extra_routes))
    return app


async def start_http(
    cfg: HttpConfig, health: Health, extra_routes: Sequence[web.RouteDef] = ()
) -> web.AppRunner:
    """Serve /healthz, /metrics and `extra_routes` on cfg.host:cfg.port; the caller awaits `runner.cleanup()`.

    Raises `HttpListenError` (one line) when the address cannot be bound.
    """
    runner = web.AppRunner(build_app(health, extra_routes), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        why = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise HttpListenError(f"http: cannot listen on {cfg.host}:{cfg.port}: {why}") from None
    log.info("http listener on %s:%s (/healthz, /metrics)", cfg.host, bound_port(runner))
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner actually listens on (useful with port 0)."""
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    raise HttpListenError("http: the listener has no bound address")
