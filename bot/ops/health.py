"""Per-platform health, for `/healthz`: does the bot do what its users expect right now?

Connected is not enough. `/healthz` is 503 (with the reasons in `problems`) when:

- a platform is disconnected, or its credentials were refused (`kind="auth"`) since the
  last successful poll, or it stopped for good (`stopped()`: a refused key or token; the other
  platforms go on);
- `REPLY_FAILURES_UNHEALTHY` replies in a row failed (`kind="reply"`) with none going out
  since (`success(platform, "reply")`);
- the last successful poll is older than the platform's `stale_after` (a few poll periods:
  the poller is stuck, or every poll fails);
- `STATE_FAILURES_UNHEALTHY` writes to the state file in a row failed (disk full, read-only
  file): the bot cannot claim a post, so it answers nothing.

`warnings` (shown, not a problem: the rest works) lists the latest items given up on, e.g. a
post set aside after its retry budget was spent; `retrying` counts the posts waiting for
their next try.

Adapters call `ok()` after a successful poll or event, `error()` with a kind on a failure,
`success()` when a reply went out; the Store reports its writes through `state_write()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REPLY_FAILURES_UNHEALTHY = 3
STATE_FAILURES_UNHEALTHY = 2
# Kinds that mean "the platform refused our credentials"; the forum adapter names a poll
# failure's kind after its error class (ForumAuthError -> "forumautherror").
AUTH_KINDS = frozenset({"auth", "forumautherror"})
# Kinds a successful poll does not clear: they are about sending, not reading.
_SEND_KINDS = frozenset({"reply"})
MAX_WARNINGS = 5
WARNING_SECONDS = 24 * 3600.0  # a warning is shown for a day


@dataclass(slots=True)
class PlatformHealth:
    connected: bool = False
    last_ok: float | None = None  # unix time of the last successful poll / gateway event
    last_error: str | None = None  # one line, no secrets
    last_error_at: float | None = None
    held_for_approval: int = 0  # replies the platform put in its review queue (Discourse "enqueued")
    stale_after: float | None = None  # seconds without a successful poll that make it unhealthy
    failures: dict[str, int] = field(default_factory=dict)  # kind -> failures in a row
    warnings: list[tuple[float, str]] = field(default_factory=list)  # (at, one line), newest last
    retrying: int = 0  # items waiting for their next try
    stopped: str | None = None  # why the platform stopped for good (the others go on)


class Health:
    """Thread-safe registry; adapters call `ok()`/`error()`/`connected()`, `/healthz` calls `snapshot()`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._platforms: dict[str, PlatformHealth] = {}
        self._clock = clock
        self.started_at = clock()
        self._state_failures = 0
        self._state_error: str | None = None

    def register(self, platform: str, *, stale_after: float | None = None) -> None:
        """Declare a platform the service runs, so /healthz reports it before its first poll.

        `stale_after`: for a polled platform, how long without a successful poll is unhealthy.
        """
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            if stale_after is not None:
                h.stale_after = stale_after

    def set_stale_after(self, platform: str, seconds: float | None) -> None:
        """Set (or clear) how long without a successful poll makes `platform` unhealthy."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).stale_after = seconds

    def ok(self, platform: str) -> None:
        """A poll or event went through: connected, and its credentials work."""
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.connected, h.last_ok = True, self._clock()
            h.failures = {k: n for k, n in h.failures.items() if k in _SEND_KINDS}

    def success(self, platform: str, kind: str) -> None:
        """Something of `kind` (e.g. "reply") went out: its run of failures is over."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).failures.pop(kind, None)

    def connected(self, platform: str, value: bool) -> None:
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).connected = value

    def error(self, platform: str, message: str, *, disconnected: bool = False, kind: str = "poll") -> None:
        """Record a failure of `kind` ("poll", "auth", "reply", ...) with its one-line message.

        The caller masks anything sensitive.
        """
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.last_error, h.last_error_at = (
                message.splitlines()[0][:300] if message else "error",
                self._clock(),
            )
            h.failures[kind] = h.failures.get(kind, 0) + 1
            if disconnected:
                h.connected = False

    def stopped(self, platform: str, reason: str) -> None:
        """The platform stopped for good (a refused credential): 503 with the reason until restart."""
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.connected, h.stopped = False, reason.splitlines()[0][:300] if reason else "stopped"
            h.last_error, h.last_error_at = h.stopped, self._clock()

    def warning(self, platform: str, message: str) -> None:
        """Something was given up on (a post set aside): shown for a day, does not make it 503."""
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.warnings = [*h.warnings, (self._clock(), message.splitlines()[0][:300])][-MAX_WARNINGS:]

    def retrying(self, platform: str, count: int) -> None:
        """How many items of `platform` wait for their next try."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).retrying = count

    def held_for_approval(self, platform: str) -> None:
        """A reply went into the platform's review queue: not an error, but worth seeing."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).held_for_approval += 1
    def state_write(self, ok: bool, message: str = "") -> None:
        """The Store reports each write: a run of failures makes the whole bot unhealthy."""
        with self._lock:
            if ok:
                self._state_failures = 0
            else:
                self._state_failures += 1
                self._state_error = message.splitlines()[0][:300] if message else "write failed"

    def _problems(self, name: str, h: PlatformHealth, now: float) -> list[str]:
        out = []
        if h.stopped is not None:
            return [f"stopped: {h.stopped}"]  # nothing else about it matters until a restart
        if not h.connected:
            out.append("disconnected")
        if any(h.failures.get(k) for k in AUTH_KINDS):
            out.append("credentials refused")
        replies = h.failures.get("reply", 0)
        if replies >= REPLY_FAILURES_UNHEALTHY:
            out.append(f"{replies} replies failed in a row")
        if h.stale_after is not None:
            since = h.last_ok if h.last_ok is not None else self.started_at
            if now - since > h.stale_after:
                what = (
                    "last successful poll" if h.last_ok is not None else "start, and no successful poll yet"
                )
                out.append(f"{now - since:.0f} s since the {what}")
        return out

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view; `ok` is true when no platform and not the state has a problem."""
        now = self._clock()
        with self._lock:
            platforms = {
                name: {
                    "connected": h.connected,
                    "last_ok": h.last_ok,
                    "last_error": h.last_error,
                    "last_error_at": h.last_error_at,
                    "held_for_approval": h.held_for_approval,
                    "retrying": h.retrying,
                    "warnings": [m for at, m in h.warnings if now - at <= WARNING_SECONDS],
                    "problems": self._problems(name, h, now),
                }
                for name, h in sorted(self._platforms.items())
            }
            state_problems = (
                [f"{self._state_failures} state writes failed in a row: {self._state_error}"]
                if self._state_failures >= STATE_FAILURES_UNHEALTHY
                else []
            )
        return {
            "ok": bool(platforms)
            and not state_problems
            and all(not p["problems"] for p in platforms.values()),
            "uptime_seconds": round(now - self.started_at, 1),
            "platforms": platforms,
            "state": {"problems": state_problems},
        }
