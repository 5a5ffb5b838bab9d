"""The bot service: config -> Store, engines, platform adapters, optional HTTP listener.

One engine per platform, because `answer_staff` is a per-platform setting. The Discord
adapter is imported only when the config has a `discord` section, so a forum-only bot
never loads discord.py (and the other way round for pydiscourse).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Config, ConfigError
from bot.ops.health import Health
from bot.state import StateError, StateLock, Store

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
PRUNE_EVERY_SECONDS = 6 * 3600.0
STALE_MIN_SECONDS = 10.0


class StartupError(RuntimeError):
    """The service cannot start. The message is one line, fit to print after ``error: ``."""


@dataclass(slots=True)
class Running:
    """What a started service exposes to its caller (the demo, tests)."""

    store: Store
    health: Health
    discourse: Any | None = None  # DiscourseAdapter
    http_port: int | None = None


async def run_service(
    cfg: Config,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Running], Awaitable[None] | None] | None = None,
    on_handled: Callable[[Any], Awaitable[None] | None] | None = None,
    discord_options: dict[str, Any] | None = None,
) -> None:
    """Start every configured platform and serve until `stop` is set; raises StartupError when
    none can work. `discord_options` go to discord.py's client (tests shorten its waits)."""
    from bot.core.engine import Engine
    from knowledge import KnowledgeError, default_kb, load

    if cfg.discourse is None and cfg.discord is None:
        raise StartupError(f"{cfg.source}: configure at least one of discourse, discord")
    stop = stop or asyncio.Event()
    try:
        kb = default_kb() if cfg.model_path is None else load(model_path=cfg.model_path)
    except KnowledgeError as exc:
        raise StartupError(f"knowledge base: {exc}") from None
    lock = StateLock(cfg.state_path)
    try:
        lock.acquire()  # one bot per state file: a second one would answer everything twice
        store = Store(cfg.state_path)
    except StateError as exc:
        lock.release()
        raise StartupError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        from bot.inputs import os_reason

        lock.release()
        raise StartupError(f"state_path {cfg.state_path}: {os_reason(exc)}") from None
    try:
        store.check_writable()  # a read-only or full disk fails now, not at the first post
    except StateError as exc:
        store.close()
        lock.release()
        raise StartupError(str(exc).splitlines()[0]) from None
    health = Health()
    store.on_write = health.state_write
    running = Running(store=store, health=health)

    def engine_for(answer_staff: bool) -> Engine:
        """One engine per platform: `answer_staff` is a per-platform setting."""
        return Engine(
            kb, min_score=cfg.min_score, max_dump_bytes=cfg.max_dump_bytes, answer_staff=answer_staff
        )

    runner = None
    housekeeping: asyncio.Task[None] | None = None
    tasks: list[asyncio.Task[None]] = []
    jobs: list[tuple[str, Any]] = []  # coroutines not started yet (closed if start-up fails)
    stopped: list[str] = []  # one line per platform that stopped for good
    try:
        routes = []
        adapter = None
        if cfg.discourse is not None:
            from bot.discourse.adapter import DiscourseAdapter
            from bot.discourse.adapter import StartupError as ForumStartupError

            engine = engine_for(cfg.discourse.answer_staff)
            adapter = DiscourseAdapter(
                cfg.discourse, engine, store, health, shadow=cfg.shadow, on_handled=on_handled
            )
            running.discourse = adapter
            # A few poll periods (each may take its request timeout) without a successful poll.
            health.set_stale_after(
                "discourse", max(STALE_MIN_SECONDS, 3 * cfg.discourse.poll_seconds + 2 * cfg.discourse.request_timeout)
            )
            if cfg.discourse.webhook_secret:
                if cfg.http is None:
                    log.warning(
                        "FARMHAND_DISCOURSE_WEBHOOK_SECRET is set but there is no http section: webhooks are off"
                    )
                from bot.ops.webhook_guard import guard_webhook

                secret = cfg.discourse.webhook_secret
                routes.append(guard_webhook(adapter.webhook_route(secret), secret))  # 503 until ready
        if cfg.http is not None:
            from bot.web import HttpListenError, bound_port, start_http

            try:
                runner = await start_http(cfg.http, health, routes)
            except HttpListenError as exc:
                raise StartupError(str(exc)) from None
            running.http_port = bound_port(runner)
        if cfg.discord is not None:
            # The Discord adapter lives in bot/discord (another module's job); loaded only when configured.
            from bot.discord.service import run_discord

            # Started before the forum's start-up check, so a slow or refusing forum never holds it up.
            discord_job = run_discord(
                cfg, engine_for(cfg.discord.answer_staff), store, health, stop, **(discord_options or {})
            )
            tasks.append(asyncio.create_task(discord_job, name="discord"))
        if adapter is not None:
            try:
                await adapter.start()  # bounded: each forum call has its deadline
            except ForumStartupError as exc:
                if not tasks:
                    raise StartupError(str(exc)) from None
                stopped.append(_platform_stopped(health, "discourse", str(exc), adapter.cfg.url, others=True))
            else:
                jobs.append(("discourse", _forum_job(adapter, stop, ForumStartupError)))
        tasks += [asyncio.create_task(job, name=name) for name, job in jobs]
        jobs = []
        if cfg.retention_days > 0:
            housekeeping = asyncio.create_task(_prune_loop(store, cfg.retention_days, stop), name="retention")
        log.info(
            "farmhand running: mode %s, platforms %s",
            cfg.mode,
            ", ".join(t.get_name() for t in tasks),
            extra={"fields": {"mode": cfg.mode}},
        )
        if on_ready is not None:
            result = on_ready(running)
            if result is not None:
                await result
        forum_url = cfg.discourse.url if cfg.discourse is not None else ""
        await _serve_until_stopped(tasks, stop, health, stopped, forum_url=forum_url)
    finally:
        stop.set()
        if housekeeping is not None:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
        for _name, job in jobs:
            job.close()  # never started (start-up failed): no "never awaited" warning
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        if running.discourse is not None:
            running.discourse.client.close()  # no forum call left reading after the stop
        if runner is not None:
            await runner.cleanup()
        store.close()
        lock.release()


async def _forum_job(adapter: Any, stop: asyncio.Event, startup_error: type[Exception]) -> None:
    """The forum poller; a start-up refusal found on a later try (e.g. a 401 once the forum is
    back) stops the forum with its one line, like one found at once."""
    try:
        await adapter.run(stop)
    except startup_error as exc:
        raise StartupError(str(exc)) from None


async def _serve_until_stopped(
    tasks: list[asyncio.Task[None]],
    stop: asyncio.Event,
    health: Health,
    stopped: list[str],
    *,
    forum_url: str = "",
) -> None:
    """Serve until `stop` is set. A platform that stops for good (a refused credential, a
    missing intent, a crash) stops alone; the others go on. When none is left, raise
    `StartupError` with every platform's reason on one line (or the crash itself)."""
    pending = set(tasks)
    crashed: BaseException | None = None
    stop_task = asyncio.create_task(stop.wait())
    try:
        while pending:
            done, _ = await asyncio.wait({*pending, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            if stop_task in done:
                return
            for task in done:
                pending.discard(task)
                exc = None if task.cancelled() else task.exception()
                name, others = task.get_name(), bool(pending)
                if isinstance(exc, ConfigError | StartupError):
                    reason = str(exc).splitlines()[0]
                    stopped.append(_platform_stopped(health, name, reason, forum_url, others=others))
                elif exc is not None:
                    crashed = crashed or exc
                    health.stopped(name, f"internal error: {type(exc).__name__}")
                    if others:  # else it is re-raised: one critical record with its traceback
                        log.error("%s stopped on an internal error; the other platforms go on", name, exc_info=exc)
                    stopped.append(f"{name}: internal error: {type(exc).__name__}")
                elif not stop.is_set():
                    stopped.append(_platform_stopped(health, name, "its job ended", forum_url, others=others))
        if crashed is not None:
            raise crashed
        raise StartupError("; ".join(stopped) if stopped else "every platform stopped")
    finally:
        stop_task.cancel()


def _platform_stopped(health: Health, name: str, reason: str, forum_url: str, *, others: bool) -> str:
    """Mark a platform stopped for good: health (503 with the reason) and, while others go on,
    one log line; returns the reason for the exit line, should every platform stop."""
    quiet = reason.replace(forum_url, "the forum") if forum_url else reason  # no hosts in logs
    health.stopped(name, quiet)
    if others:
        log.error("%s stopped: %s; the other platforms go on", name, quiet)
    return reason


async def _prune_loop(
    store: Store, days: int, stop: asyncio.Event, *, clock: Callable[[], datetime] | None = None
) -> None:
    """Keep the audit log within its retention: prune at start, then every few hours."""
    while not stop.is_set():
        try:
            done = store.prune_decisions(timedelta(days=days), now=(clock or _utcnow)())
        except Exception as exc:  # housekeeping must never take the bot down
            log.warning("could not prune the audit log: %s", str(exc).splitlines()[0] if str(exc) else exc)
        else:
            if done.spared:
                log.warning(
                    "retention: the clock is %.1f days past the newest audit-log row; kept %d rows that "
                    "are within %d days of that row (has the clock jumped?)",
                    done.clock_ahead_seconds / 86400,
                    done.spared,
                    days,
                )
            if done.held_back:
                log.warning(
                    "retention: %d of %d audit-log rows are older than %d days; removed %d this pass, "
                    "the rest at the next (a sudden mass expiry usually means the clock jumped)",
                    done.removed + done.held_back,
                    done.total,
                    days,
                    done.removed,
                )
            elif done.removed:
                log.info("pruned %d audit-log rows older than %d days", done.removed, days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=PRUNE_EVERY_SECONDS)


def _utcnow() -> datetime:
    return datetime.now(UTC)
