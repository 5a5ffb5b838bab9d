"""The optional HTTP listener: GET /healthz, GET /metrics, plus routes adapters add (webhooks).

Bound to 127.0.0.1 by default (see `HttpConfig`): health and metrics say how busy the bot
is and when it last failed, which is nobody else's business; put a proxy in front to
expose them.

A listener open to the world must not let slow or half-sent requests eat the process's
file descriptors (the bot's own forum and Discord connections need them too), so:

- headers must arrive within `read_timeout` of connecting (aiohttp's keep-alive timer runs
  from the connection's start and a trickle of bytes does not extend it), and a body within
  another `read_timeout`, else 408 and the connection closes;
- at most `max_connections` are open; a new one closes the oldest, so a flood of stuck
  connections cannot lock `/healthz` out for long;
- a body over `max_body_bytes` is refused with 413 from its Content-Length, unread.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

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


class LogThrottle:
    """At most one log line per `every` seconds for one kind of nuisance; counts the rest."""

    def __init__(self, every: float = 60.0, logger: logging.Logger | None = None) -> None:
        self.every = every
        self.log = logger or log
        self._last = float("-inf")
        self.suppressed = 0

    def __call__(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            self.suppressed += 1
            return
        more = f" ({self.suppressed} more like it since the last line)" if self.suppressed else ""
        self._last, self.suppressed = now, 0
        self.log.warning(msg + more, *args)


def _body_guard(read_timeout: float, max_body: int) -> Callable[..., Awaitable[web.StreamResponse]]:
    slow = LogThrottle()
    big = LogThrottle()

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.body_exists:
            length = request.content_length
            if length is not None and length > max_body:
                metrics.PLATFORM_ERRORS.labels(platform="http", kind="body_too_large").inc()
                big("http: refused a %d-byte body on %s (limit %d)", length, request.path, max_body)
                return web.json_response(
                    {"error": "body too large"}, status=413, headers={"Connection": "close"}
                )
            try:
                await asyncio.wait_for(request.read(), timeout=read_timeout)
            except TimeoutError:
                metrics.PLATFORM_ERRORS.labels(platform="http", kind="body_timeout").inc()
                slow("http: a request body on %s did not arrive within %.0f s", request.path, read_timeout)
                return web.json_response({"error": "body too slow"}, status=408, headers={"Connection": "close"})
            except web.HTTPRequestEntityTooLarge:  # chunked, no Content-Length
                metrics.PLATFORM_ERRORS.labels(platform="http", kind="body_too_large").inc()
                big("http: refused an oversized chunked body on %s (limit %d)", request.path, max_body)
                return web.json_response(
                    {"error": "body too large"}, status=413, headers={"Connection": "close"}
                )
        return await handler(request)

    return guard


def build_app(
    health: Health, extra_routes: Sequence[web.RouteDef] = (), *, cfg: HttpConfig | None = None
) -> web.Application:
    """The aiohttp application behind `start_http` (separate so tests can drive it directly)."""
    cfg = cfg or HttpConfig()
    app = web.Application(
        client_max_size=cfg.max_body_bytes, middlewares=[_body_guard(cfg.read_timeout, cfg.max_body_bytes)]
    )
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
    runner = web.AppRunner(
        build_app(health, extra_routes, cfg=cfg),
        access_log=None,
        handle_signals=False,
        # The keep-alive timer starts when a connection opens and is not reset by bytes that
        # do not complete a request: it is the header read timeout.
        keepalive_timeout=cfg.read_timeout,
        max_line_size=8190,
        max_field_size=8190,
        max_headers=64,
    )
    await runner.setup()
    _bound_connections(runner, cfg.max_connections)
    # asyncio accepts up to `backlog` connections per wake-up before any of them is seen, so
    # the backlog counts towards the descriptors a burst can take, on top of max_connections.
    backlog = max(8, min(128, cfg.max_connections))
    _check_fd_limit(cfg.max_connections + backlog)
    site = web.TCPSite(runner, cfg.host, cfg.port, backlog=backlog)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        why = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise HttpListenError(f"http: cannot listen on {cfg.host}:{cfg.port}: {why}") from None
    log.info("http listener on %s:%s (/healthz, /metrics)", cfg.host, bound_port(runner))
    return runner


FD_HEADROOM = 128  # the state file, the forum and Discord connections, logs, worker threads


def _check_fd_limit(listener_fds: int) -> None:
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return
    if soft != resource.RLIM_INFINITY and soft < listener_fds + FD_HEADROOM:
        log.warning(
            "http: the open-file limit (%d) is low for max_connections; raise it (LimitNOFILE=) to at "
            "least %d or lower http.max_connections",
            soft,
            listener_fds + FD_HEADROOM,
        )


def _bound_connections(runner: web.AppRunner, limit: int) -> None:
    """Close the oldest connection when a new one would pass `limit` (one log line a minute)."""
    server = runner.server
    assert server is not None  # set by runner.setup()
    register = server.connection_made
    full = LogThrottle()

    def connection_made(handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        register(handler, transport)
        conns = server.connections  # oldest first
        if len(conns) > limit:
            metrics.PLATFORM_ERRORS.labels(platform="http", kind="connections_full").inc()
            full("http: more than %d open connections; closing the oldest", limit)
            for old in conns[: len(conns) - limit]:
                old.force_close()

    server.connection_made = connection_made  # type: ignore[method-assign]


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner actually listens on (useful with port 0)."""
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    raise HttpListenError("http: the listener has no bound address")
