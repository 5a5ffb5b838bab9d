"""The bot's durable state in SQLite: cursors, claims (what was answered where), audit log, opt-outs,
triage items and labels (bot/labels.py).

Crash safety rests on two rules the adapters follow:

1. `claim()` is an INSERT that commits before it returns, and it is called before
   anything is sent. A second caller (another task, or the same bot after a restart)
   gets False and must not post blindly.
2. A claim still in state "claimed" after a restart means "maybe posted, not recorded":
   the adapter looks at the conversation for its own reply before posting again, and
   calls `mark_posted()` instead if it finds one.

The audit log stores decisions (action, entry, score, reason) and never raw text.
Every write is its own transaction with `synchronous=FULL`, so a kill -9 loses at most
the write in flight, never a committed one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

SCHEMA_VERSION = 4

def audit_url(url: str | None) -> str | None:
    """The link kept in the audit log: no topic slug, no credentials, no query or fragment.

    A Discourse slug is the topic's title, and a private message's title can hold names
    and addresses: `https://forum/t/my-name-at-street/42/3` is kept as
    `https://forum/t/42/3`, which Discourse redirects to the same post.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None  # unparseable: keep no link rather than an odd string
    if ":" in host:
        host = f"[{host}]"
    path = parts.path
    head, sep, tail = path.rpartition("/t/")
    if sep:
        segs = [x for x in tail.split("/") if x]
        if len(segs) >= 3 and segs[-1].isdigit() and segs[-2].isdigit():
            path = f"{head}/t/{segs[-2]}/{segs[-1]}"  # slug/id/post_number
        elif len(segs) == 2 and segs[-1].isdigit() and not segs[0].isdigit():
            path = f"{head}/t/{segs[-1]}"  # slug/id
    netloc = f"{host}{port}"
    return f"{parts.scheme}://{netloc}{path}" if parts.scheme and netloc else path


def _strip_slugs(db: sqlite3.Connection) -> None:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone():
        return  # nothing recorded yet
    rows = db.execute("SELECT id, url FROM decisions WHERE url IS NOT NULL").fetchall()
    for row_id, url in rows:
        clean = audit_url(url)
        if clean != url:
            db.execute("UPDATE decisions SET url = ? WHERE id = ?", (clean, row_id))


# Migrations by target version; each runs once, in order, inside one transaction. A step is
# SQL, or a function of the connection for what SQL cannot say.
_MIGRATIONS: dict[int, tuple[str | Callable[[sqlite3.Connection], None], ...]] = {
    1: (
        """CREATE TABLE cursors (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE kv (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE claims (
            platform TEXT NOT NULL,
            key TEXT NOT NULL,
            where_ TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL CHECK (state IN ('claimed', 'posted')),
            reply_id TEXT,
            claimed_at REAL NOT NULL,
            posted_at REAL,
            PRIMARY KEY (platform, key)
        )""",
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            platform TEXT NOT NULL,
            where_ TEXT NOT NULL,
            item_id TEXT NOT NULL,
            author_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            action TEXT NOT NULL,
            entry TEXT,
            score REAL,
            reason TEXT NOT NULL,
            verdict TEXT,
            mode TEXT NOT NULL,
            url TEXT,
            posted INTEGER NOT NULL
        )""",
        "CREATE INDEX decisions_at ON decisions (at)",
        "CREATE INDEX decisions_author ON decisions (author_id)",
        "CREATE INDEX claims_where ON claims (platform, where_)",
        """CREATE TABLE opt_outs (
            platform TEXT NOT NULL,
            user_id TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (platform, user_id)
        )""",
    ),
    2: (_strip_slugs,),  # audit links lose the topic slug (a title, maybe private)
    # Triage: the posts shown to moderators, and every human decision as a labelled example.
    3: (
        """CREATE TABLE labels (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            platform TEXT NOT NULL,
            item_id TEXT NOT NULL,
            where_ TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            entry TEXT,
            decision TEXT NOT NULL,
            label TEXT NOT NULL CHECK (label IN ('vm_farming', 'other')),
            decided_by TEXT NOT NULL,
            author_id TEXT NOT NULL DEFAULT '',
            url TEXT
        )""",
        "CREATE INDEX labels_item ON labels (platform, item_id)",
        """CREATE TABLE triage (
            platform TEXT NOT NULL,
            item_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            where_ TEXT NOT NULL DEFAULT '',
            author_id TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            entry TEXT,
            score REAL,
            reasons TEXT NOT NULL DEFAULT '',
            url TEXT,
            kind TEXT NOT NULL DEFAULT 'unsure',
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'shown', 'decided')),
            message_id TEXT,
            created_at REAL NOT NULL,
            shown_at REAL,
            decided_at REAL,
            decided_by TEXT,
            decision TEXT,
            PRIMARY KEY (platform, item_id),
            UNIQUE (platform, number)
        )""",
    ),
    # Retry budgets: a post that cannot be handled is retried on its own schedule and set
    # aside once its budget is spent; kept here so a restart does not hand it a new budget.
    4: (
        """CREATE TABLE retries (
            platform TEXT NOT NULL,
            key TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            first_at REAL NOT NULL,
            next_at REAL NOT NULL,
            sent_at REAL,
            last_error TEXT NOT NULL DEFAULT '',
            set_aside_at REAL,
            PRIMARY KEY (platform, key)
        )""",
    ),
}


def _create_atomically(path: Path) -> None:
    """Create a migrated, empty database at `path` without ever leaving a partial file there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    try:
        Store(tmp, _creating=True).close()  # creates and migrates; a clean close folds the WAL back in
        with contextlib.suppress(FileExistsError):  # someone else created it meanwhile: theirs wins
            os.link(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


class StateError(RuntimeError):
    """The state file cannot be used (newer schema, not a database). One line."""


class StateLock:
    """An exclusive advisory lock on `<state_path>.lock`, held by the one running bot.

    Two bots on one state file would both claim nothing twice (SQLite keeps the claim
    unique) yet race on the forum between "nobody answered" and "posted", and answer
    topics twice. `flock` is released by the kernel when the process dies, kill -9
    included, so a crash never leaves a stale lock. The file holds the holder's pid, for
    the error message; it is never deleted (deleting a lock file races with its takers).
    """

    def __init__(self, state_path: str | Path) -> None:
        self.state = Path(state_path)
        self.path = Path(f"{state_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        """Take the lock or raise `StateError` naming the holder's pid (one line)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "a process whose pid is not written yet"
            raise StateError(
                f"{self.state}: the state is in use by another farmhand ({who}); "
                "stop it, or give this one its own state_path"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (idempotent); the file stays."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    # The holder writes its pid right after locking; give it a moment if we raced it.
    for _ in range(20):
        raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if raw.isdigit():
            return int(raw)
        time.sleep(0.01)
    return None


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One audit-log row: what the bot decided about one item, and why."""

    at: datetime
    platform: str
    where: str
    item_id: str
    author_id: str
    kind: str
    action: str
    entry: str | None
    score: float | None
    reason: str
    verdict: str | None
    mode: str
    url: str | None
    posted: bool


PRUNE_MIN_BATCH = 100  # below this many rows a pass may delete everything that is due


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one retention pass did: rows removed, rows due but left for the next pass, rows before."""

    removed: int
    held_back: int
    total: int
    clock_ahead_seconds: float  # how far now is past the newest row (0 when not ahead)
    spared: int = 0  # rows old by the clock, kept because they are within retention of the newest row


@dataclass(frozen=True, slots=True)
class Retry:
    """The retry budget of one item that could not be handled yet (see `Store.retry_failed`)."""

    attempts: int  # failed attempts so far
    first_at: float  # unix time of the first failure
    next_at: float  # not tried again before this
    sent_at: float | None  # the last send whose outcome is unknown (a re-check waits for it)
    last_error: str
    set_aside_at: float | None  # budget spent: never tried again


@dataclass(frozen=True, slots=True)
class PendingClaim:
    """A claim still in state "claimed": maybe posted, not recorded (see the module docstring)."""

    key: str
    where: str
    claimed_at: float  # unix time


class Store:
    """SQLite-backed state; safe to share between the event loop and worker threads."""

    def __init__(self, path: str | Path, *, _creating: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        # Told about every write (ok, one-line error): the service points it at its Health.
        self.on_write: Callable[[bool, str], None] | None = None
        if str(path) != ":memory:" and not _creating:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                _create_atomically(self.path)
            else:
                if size == 0:
                    # Never a first start: a new state file is created whole (below), so an
                    # empty one was truncated or restored wrong. Starting afresh would forget
                    # opt-outs and answer old topics again.
                    raise StateError(
                        f"{self.path}: the state file is empty (0 bytes); restore it from a backup, "
                        "or delete it to start afresh (forgetting opt-outs and what was answered)"
                    )
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, every write is explicit.
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: cannot use the state file: {exc}") from None

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"{self.path}: state schema version {version} is newer than this farmhand "
                    f"({SCHEMA_VERSION}); upgrade farmhand"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for stmt in _MIGRATIONS[target]:
                        if callable(stmt):
                            stmt(self._db)
                        else:
                            self._db.execute(stmt)
                    self._db.execute(f"PRAGMA user_version = {int(target)}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        """The schema version stored in the file (`PRAGMA user_version`)."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._db.close()  # closing twice is a no-op in sqlite3

    def _write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        with self._lock:
            try:
                cur = self._db.execute(sql, params)  # autocommit: durable when this returns
            except sqlite3.Error as exc:
                self._report_write(False, exc)
                raise
        self._report_write(True, None)
        return cur.rowcount

    def _report_write(self, ok: bool, exc: BaseException | None) -> None:
        if self.on_write is not None:
            self.on_write(ok, "" if exc is None else f"{type(exc).__name__}: {exc}")

    def check_writable(self) -> None:
        """Write and delete a marker, so a read-only or full state fails at start, not at the first post."""
        try:
            self._write(
                "INSERT INTO kv (key, value) VALUES ('startup-check', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(time.time()),),
            )
            self._write("DELETE FROM kv WHERE key = 'startup-check'")
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: the state file cannot be written: {exc}") from None

    # -- claims ---------------------------------------------------------------------------

    def claim(self, platform: str, key: str, *, where: str = "") -> bool:
        """Claim an item before answering it; True only for the first caller, ever."""
        return (
            self._write(
                "INSERT OR IGNORE INTO claims (platform, key, where_, state, claimed_at) "
                "VALUES (?, ?, ?, 'claimed', ?)",
                (platform, key, where, time.time()),
            )
            == 1
        )

    def release(self, platform: str, key: str) -> None:
        """Drop an unposted claim (the send failed for sure), so a later attempt can claim it."""
        self._write(
            "DELETE FROM claims WHERE platform = ? AND key = ? AND state = 'claimed'", (platform, key)
        )

    def mark_posted(self, platform: str, key: str, reply_id: str, *, where: str = "") -> None:
        """Record that the reply for a claimed item is on the platform."""
        self._write(
            "INSERT INTO claims (platform, key, where_, state, reply_id, claimed_at, posted_at) "
            "VALUES (?, ?, ?, 'posted', ?, ?, ?) "
            "ON CONFLICT (platform, key) DO UPDATE SET state = 'posted', reply_id = excluded.reply_id, "
            "posted_at = excluded.posted_at",
            (platform, key, where, str(reply_id), time.time(), time.time()),
        )

    def claim_state(self, platform: str, key: str) -> str | None:
        """'claimed' (maybe posted, not recorded), 'posted', or None (never claimed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM claims WHERE platform = ? AND key = ?", (platform, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def pending_claims(self, platform: str, *, since: float) -> list[PendingClaim]:
        """Claims still "claimed" (never marked posted nor released) made at or after `since`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, where_, claimed_at FROM claims "
                "WHERE platform = ? AND state = 'claimed' AND claimed_at >= ? ORDER BY claimed_at, key",
                (platform, float(since)),
            ).fetchall()
        return [PendingClaim(key=str(r[0]), where=str(r[1]), claimed_at=float(r[2])) for r in rows]

    def claimed_at(self, platform: str, key: str) -> float | None:
        """When a claim still in state "claimed" was made (None: no such claim)."""
        with self._lock:
            row = self._db.execute(
                "SELECT claimed_at FROM claims WHERE platform = ? AND key = ? AND state = 'claimed'",
                (platform, key),
            ).fetchone()
        return None if row is None else float(row[0])

    # -- retry budgets --------------------------------------------------------------------

    def retry_get(self, platform: str, key: str) -> Retry | None:
        """The retry budget of an item, or None when it never failed (or succeeded since)."""
        with self._lock:
            row = self._db.execute(
                "SELECT attempts, first_at, next_at, sent_at, last_error, set_aside_at FROM retries "
                "WHERE platform = ? AND key = ?",
                (platform, key),
            ).fetchone()
        if row is None:
            return None
        return Retry(int(row[0]), float(row[1]), float(row[2]), row[3], str(row[4]), row[5])

    def retry_failed(
        self,
        platform: str,
        key: str,
        *,
        attempts: int,
        first_at: float,
        next_at: float,
        error: str,
        sent_at: float | None = None,
        set_aside: bool = False,
    ) -> None:
        """Record a failed attempt: its count, when to try next, whether the budget is spent,
        and `sent_at`, when the attempt sent something whose outcome is unknown."""
        self._write(
            "INSERT INTO retries (platform, key, attempts, first_at, next_at, sent_at, last_error, set_aside_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, key) DO UPDATE SET "
            "attempts = excluded.attempts, first_at = excluded.first_at, next_at = excluded.next_at, "
            "sent_at = excluded.sent_at, last_error = excluded.last_error, "
            "set_aside_at = excluded.set_aside_at",
            (
                platform,
                key,
                int(attempts),
                float(first_at),
                float(next_at),
                sent_at,
                error.splitlines()[0][:300] if error else "",
                time.time() if set_aside else None,
            ),
        )

    def retry_sent(self, platform: str, key: str, at: float) -> None:
        """Note a send about to go out again for an item (a kill -9 during it leaves its outcome unknown)."""
        self._write(
            "INSERT INTO retries (platform, key, attempts, first_at, next_at, sent_at) VALUES (?, ?, 0, ?, ?, ?) "
            "ON CONFLICT (platform, key) DO UPDATE SET sent_at = excluded.sent_at",
            (platform, key, float(at), float(at), float(at)),
        )

    def retrying_count(self, platform: str) -> int:
        """Items of `platform` that failed and wait for another try (not set aside)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM retries WHERE platform = ? AND set_aside_at IS NULL AND attempts > 0",
                (platform,),
            ).fetchone()
        return int(row[0])

    def retry_clear(self, platform: str, key: str) -> None:
        """The item was handled after all: forget its retry budget."""
        self._write("DELETE FROM retries WHERE platform = ? AND key = ?", (platform, key))

    def answered_in(self, platform: str, where: str) -> bool:
        """True when the bot has posted (or may have posted) a reply in this topic or thread."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM claims WHERE platform = ? AND where_ = ? LIMIT 1", (platform, str(where))
            ).fetchone()
        return row is not None

    # -- cursors and small values ---------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        """The saved position of a feed (e.g. the last fully handled forum post id)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, name: str, value: str) -> None:
        """Save a feed position (durable when this returns)."""
        self._write(
            "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (name, str(value), time.time()),
        )

    def kv_get(self, key: str) -> str | None:
        """A small stored value, e.g. the hash of the last Discord command sync."""
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def kv_set(self, key: str, value: str) -> None:
        """Store a small value."""
        self._write(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )

    # -- audit log ------------------------------------------------------------------------

    def record_decision(
        self,
        *,
        platform: str,
        where: str,
        item_id: str,
        author_id: str,
        kind: str,
        action: str,
        entry: str | None,
        score: float | None,
        reason: str,
        verdict: str | None,
        mode: str,
        url: str | None,
        posted: bool,
    ) -> None:
        """Append one decision to the audit log (identifiers and reasons only: no raw text)."""
        self._write(
            "INSERT INTO decisions (at, platform, where_, item_id, author_id, kind, action, entry, score, "
            "reason, verdict, mode, url, posted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                platform,
                str(where),
                str(item_id),
                str(author_id),
                str(kind),
                str(action),
                entry,
                None if score is None else float(score),
                reason.splitlines()[0][:500] if reason else "",
                verdict,
                mode,
                audit_url(url),
                int(bool(posted)),
            ),
        )

    def decided_items(self, platform: str, item_ids: list[str], *, since: float) -> set[str]:
        """Which of these items have an audit row made at or after `since` (unix time)."""
        if not item_ids:
            return set()
        marks = ",".join("?" * len(item_ids))  # placeholders only: the values are bound
        with self._lock:
            rows = self._db.execute(
                f"SELECT DISTINCT item_id FROM decisions WHERE at >= ? AND platform = ? AND item_id IN ({marks})",
                (float(since), platform, *map(str, item_ids)),
            ).fetchall()
        return {str(r[0]) for r in rows}

    def decisions_since(self, ts: datetime) -> list[DecisionRecord]:
        """Audit-log rows at or after `ts` (naive datetimes are taken as UTC), oldest first."""
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        with self._lock:
            rows = self._db.execute(
                "SELECT at, platform, where_, item_id, author_id, kind, action, entry, score, reason, "
                "verdict, mode, url, posted FROM decisions WHERE at >= ? ORDER BY at, id",
                (ts.timestamp(),),
            ).fetchall()
        return [
            DecisionRecord(
                at=datetime.fromtimestamp(r[0], UTC),
                platform=r[1],
                where=r[2],
                item_id=r[3],
                author_id=r[4],
                kind=r[5],
                action=r[6],
                entry=r[7],
                score=r[8],
                reason=r[9],
                verdict=r[10],
                mode=r[11],
                url=r[12],
                posted=bool(r[13]),
            )
            for r in rows
        ]

    # -- people ---------------------------------------------------------------------------

    def set_opt_out(self, platform: str, user_id: str, opted_out: bool) -> None:
        """Record that a person does (or no longer does) want automatic replies."""
        if opted_out:
            self._write(
                "INSERT OR IGNORE INTO opt_outs (platform, user_id, at) VALUES (?, ?, ?)",
                (platform, str(user_id), time.time()),
            )
        else:
            self._write("DELETE FROM opt_outs WHERE platform = ? AND user_id = ?", (platform, str(user_id)))

    def is_opted_out(self, platform: str, user_id: str) -> bool:
        """True when the person asked not to get automatic replies on that platform."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM opt_outs WHERE platform = ? AND user_id = ?", (platform, str(user_id))
            ).fetchone()
        return row is not None

    def prune_decisions(self, retention: timedelta, *, now: datetime | None = None) -> Pruned:
        """Delete audit-log rows past `retention`, guarded against a clock that jumped.

        The cutoff is `retention` before the earlier of now and the newest row: a clock set
        100 days ahead must not make every row look old. And one pass deletes at most half
        the rows (never fewer than `PRUNE_MIN_BATCH`); the rest waits for the next pass, so
        a wrong clock cannot empty the log at once and the caller can say so in a log line.
        """
        now_ts = (now or datetime.now(UTC)).timestamp()
        with self._lock:
            total, newest = self._db.execute("SELECT COUNT(*), MAX(at) FROM decisions").fetchone()
            total = int(total)
            ahead = max(0.0, now_ts - float(newest)) if newest is not None else 0.0
            cutoff = min(now_ts, float(newest) if newest is not None else now_ts) - retention.total_seconds()
            due = int(self._db.execute("SELECT COUNT(*) FROM decisions WHERE at < ?", (cutoff,)).fetchone()[0])
            by_now = now_ts - retention.total_seconds()
            spared = int(
                self._db.execute(
                    "SELECT COUNT(*) FROM decisions WHERE at >= ? AND at < ?", (cutoff, by_now)
                ).fetchone()[0]
            )
            batch = max(PRUNE_MIN_BATCH, total // 2)
            removed = self._db.execute(
                "DELETE FROM decisions WHERE id IN "
                "(SELECT id FROM decisions WHERE at < ? ORDER BY at, id LIMIT ?)",
                (cutoff, batch),
            ).rowcount
            # A post set aside long ago is behind every cursor: its retry budget need not stay.
            self._db.execute("DELETE FROM retries WHERE set_aside_at IS NOT NULL AND set_aside_at < ?", (cutoff,))
        return Pruned(
            removed=removed, held_back=due - removed, total=total, clock_ahead_seconds=ahead, spared=spared
        )

    def purge_user(self, user_id: str) -> int:
        """Remove every record about a person (audit rows, opt-outs, who-asked notes, labels, triage items).

        Returns the rows removed (or, for triage items they decided on, anonymised).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                n = self._db.execute("DELETE FROM decisions WHERE author_id = ?", (str(user_id),)).rowcount
                n += self._db.execute("DELETE FROM opt_outs WHERE user_id = ?", (str(user_id),)).rowcount
                n += self._db.execute(
                    "DELETE FROM labels WHERE author_id = ? OR decided_by = ?", (str(user_id), str(user_id))
                ).rowcount
                n += self._db.execute("DELETE FROM triage WHERE author_id = ?", (str(user_id),)).rowcount
                # A moderator's decision on someone else's post stays; only their name goes.
                n += self._db.execute(
                    "UPDATE triage SET decided_by = '' WHERE decided_by = ?", (str(user_id),)
                ).rowcount
                # Small per-message notes that name a person (e.g. who asked for a Discord
                # auto-reply, so they may remove it) are keyed "<platform>:reply-asker:<id>".
                n += self._db.execute(
                    "DELETE FROM kv WHERE key LIKE '%:reply-asker:%' AND value = ?", (str(user_id),)
                ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return n

    # -- triage and labels (bot/labels.py) -------------------------------------------------

    def add_label(
        self,
        *,
        platform: str,
        item_id: str,
        text: str,
        entry: str | None,
        decision: str,
        label: str,
        decided_by: str,
        where: str = "",
        author_id: str = "",
        url: str | None = None,
    ) -> None:
        """Store one human decision as a labelled example (`text` must already be masked)."""
        self._write(
            "INSERT INTO labels (at, platform, item_id, where_, text, entry, decision, label, decided_by, "
            "author_id, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                platform,
                str(item_id),
                str(where),
                text,
                entry,
                decision,
                label,
                str(decided_by),
                str(author_id),
                url,
            ),
        )

    def labels(self) -> list[LabelRecord]:
        """Every stored label, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, platform, item_id, where_, text, entry, decision, label, decided_by, author_id, "
                "url FROM labels ORDER BY at, id"
            ).fetchall()
        return [
            LabelRecord(
                id=int(r[0]),
                at=datetime.fromtimestamp(r[1], UTC),
                platform=r[2],
                item_id=r[3],
                where=r[4],
                text=r[5],
                entry=r[6],
                decision=r[7],
                label=r[8],
                decided_by=r[9],
                author_id=r[10],
                url=r[11],
            )
            for r in rows
        ]

    def triage_add(
        self,
        *,
        platform: str,
        item_id: str,
        text: str,
        entry: str | None,
        score: float | None,
        reasons: str = "",
        where: str = "",
        author_id: str = "",
        url: str | None = None,
        kind: str = "unsure",
    ) -> TriageItem | None:
        """Queue a post for the moderators (masked `text`); None when it is already queued."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM triage WHERE platform = ?", (platform,)
                ).fetchone()
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO triage (platform, item_id, number, where_, author_id, text, entry, "
                    "score, reasons, url, kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        platform,
                        str(item_id),
                        int(row[0]),
                        str(where),
                        str(author_id),
                        text,
                        entry,
                        None if score is None else float(score),
                        reasons,
                        url,
                        kind,
                        time.time(),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.triage_get(platform, item_id=str(item_id)) if cur.rowcount == 1 else None

    def triage_get(self, platform: str, *, item_id: str | None = None, number: int | None = None) -> TriageItem | None:
        """One triage item by post id or by its number."""
        col, value = ("item_id", str(item_id)) if item_id is not None else ("number", int(number or 0))
        with self._lock:
            row = self._db.execute(
                f"SELECT {_TRIAGE_COLS} FROM triage WHERE platform = ? AND {col} = ?", (platform, value)
            ).fetchone()
        return None if row is None else _triage_item(row)

    def record_triage_sent(self, platform: str, item: TriageItem, entry_id: str, *, mode: str) -> None:
        """The audit row of a reply a moderator sent from triage (both platforms write the same)."""
        self.record_decision(
            platform=platform,
            where=item.where,
            item_id=item.item_id,
            author_id=item.author_id,
            kind="triage",
            action="answer",
            entry=entry_id,
            score=item.score,
            reason=f"triage: a moderator sent {entry_id}",
            verdict=None,
            mode=mode,
            url=item.url,
            posted=True,
        )

    def triage_items(self, platform: str | None = None, *, state: str | None = None) -> list[TriageItem]:
        """Triage items (of one platform, in one state), oldest first."""
        sql, params = f"SELECT {_TRIAGE_COLS} FROM triage WHERE 1 = 1", []
        if platform is not None:
            sql, params = sql + " AND platform = ?", [*params, platform]
        if state is not None:
            sql, params = sql + " AND state = ?", [*params, state]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, number", tuple(params)).fetchall()
        return [_triage_item(r) for r in rows]

    def triage_shown(self, platform: str, item_ids: list[str], message_id: str) -> None:
        """Record that these queued items were shown to the moderators (in that message)."""
        with self._lock:
            for item in item_ids:
                self._db.execute(
                    "UPDATE triage SET state = 'shown', message_id = ?, shown_at = ? "
                    "WHERE platform = ? AND item_id = ? AND state = 'queued'",
                    (str(message_id), time.time(), platform, str(item)),
                )

    def triage_decide(self, platform: str, item_id: str, *, by: str, decision: str) -> bool:
        """Settle an item; True only for the first decision, ever (two moderators: one wins)."""
        return (
            self._write(
                "UPDATE triage SET state = 'decided', decided_by = ?, decision = ?, decided_at = ? "
                "WHERE platform = ? AND item_id = ? AND state != 'decided'",
                (str(by), decision, time.time(), platform, str(item_id)),
            )
            == 1
        )

    def reply_id(self, platform: str, key: str) -> str | None:
        """The id of the reply posted for a claimed item, if it was recorded."""
        with self._lock:
            row = self._db.execute(
                "SELECT reply_id FROM claims WHERE platform = ? AND key = ? AND state = 'posted'", (platform, key)
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def posted_replies(self, platform: str, *, since: float) -> list[tuple[str, str, str]]:
        """(key, where, reply id) of the replies posted at or after `since`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, where_, reply_id FROM claims WHERE platform = ? AND state = 'posted' "
                "AND reply_id IS NOT NULL AND posted_at >= ? ORDER BY posted_at, key",
                (platform, float(since)),
            ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def triage_undo(self, platform: str, item_id: str) -> None:
        """Reopen an item whose decision could not be carried out (the reply failed for sure)."""
        self._write(
            "UPDATE triage SET state = 'shown', decided_by = NULL, decision = NULL, decided_at = NULL "
            "WHERE platform = ? AND item_id = ?",
            (platform, str(item_id)),
        )


@dataclass(frozen=True, slots=True)
class LabelRecord:
    """One human decision as a labelled example: masked text, entry, on topic or not, who, when."""

    id: int
    at: datetime
    platform: str
    item_id: str
    where: str
    text: str
    entry: str | None
    decision: str
    label: str
    decided_by: str
    author_id: str
    url: str | None


@dataclass(frozen=True, slots=True)
class TriageItem:
    """A post shown to the moderators: its number, masked text, candidate entry, state, decision."""

    platform: str
    item_id: str
    number: int
    where: str
    author_id: str
    text: str
    entry: str | None
    score: float | None
    reasons: str
    url: str | None
    kind: str
    state: str
    message_id: str | None
    created_at: float
    shown_at: float | None
    decided_at: float | None
    decided_by: str | None
    decision: str | None


_TRIAGE_COLS = (
    "platform, item_id, number, where_, author_id, text, entry, score, reasons, url, kind, state, message_id, "
    "created_at, shown_at, decided_at, decided_by, decision"
)


def _triage_item(r: tuple) -> TriageItem:
    return TriageItem(*r)
