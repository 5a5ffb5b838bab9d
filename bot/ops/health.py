"""Per-platform health, for `/healthz`: connected, last successful poll or event, last error."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class PlatformHealth:
    connected: bool = False
    last_ok: float | None = None  # unix time of the last successful poll / gateway event
    last_error: str | None = None  # one line, no secrets
    last_error_at: float | None = None
    held_for_approval: int = 0  # replies the platform put in its review queue (Discourse "enqueued")


class Health:
    """Thread-safe registry; adapters call `ok()`/`error()`/`connected()`, `/healthz` calls `snapshot()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._platforms: dict[str, PlatformHealth] = {}
        self.started_at = time.time()

    def register(self, platform: str) -> None:
        """Declare a platform the service runs, so /healthz reports it before its first poll."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth())

    def ok(self, platform: str) -> None:
        """A poll or event went through: the platform is connected."""
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.connected, h.last_ok = True, time.time()

    def connected(self, platform: str, value: bool) -> None:
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).connected = value

    def error(self, platform: str, message: str, *, disconnected: bool = False) -> None:
        """Record the last error (one line; the caller masks anything sensitive)."""
        with self._lock:
            h = self._platforms.setdefault(platform, PlatformHealth())
            h.last_error, h.last_error_at = message.splitlines()[0][:300] if message else "error", time.time()
            if disconnected:
                h.connected = False

    def held_for_approval(self, platform: str) -> None:
        """A reply went into the platform's review queue: not an error, but worth seeing."""
        with self._lock:
            self._platforms.setdefault(platform, PlatformHealth()).held_for_approval += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view; `ok` is true when every registered platform is connected."""
        with self._lock:
            platforms = {
                name: {
                    "connected": h.connected,
                    "last_ok": h.last_ok,
                    "last_error": h.last_error,
                    "last_error_at": h.last_error_at,
                    "held_for_approval": h.held_for_approval,
                }
                for name, h in sorted(self._platforms.items())
            }
        return {
            "ok": bool(platforms) and all(p["connected"] for p in platforms.values()),
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "platforms": platforms,
        }
