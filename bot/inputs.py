"""What every command that reads input shares: `-` as stdin, one-line path errors, JSONL with bad
lines skipped, sizes like `10MB`, and a progress bar on stderr only when stderr is a terminal.

Imports nothing heavy at module level (rich is imported only when a bar is shown), so the fast
commands stay fast.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

PASTE_HINT = "Paste the text, then press Ctrl-D on a new line (Ctrl-C to cancel)."


class InputError(ValueError):
    """An input that cannot be read. The message is one line, fit to print after ``error: ``."""


def os_reason(exc: OSError) -> str:
    """An OSError in plain words, never `[Errno N]`."""
    words = {
        errno.ENOENT: "no such file or directory",
        errno.EISDIR: "is a directory, not a file",
        errno.ENOTDIR: "a part of the path is not a directory",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left on the device",
    }
    if exc.errno in words:
        return words[exc.errno]
    return (exc.strerror or type(exc).__name__).lower()


def is_terminal(stream: Any) -> bool:
    """Is `stream` a terminal? False for pipes, files, a closed or missing stream."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def stdin_binary(hint: str = PASTE_HINT) -> Any:
    """stdin as a binary stream to read to EOF; on a terminal, first say "paste, then Ctrl-D".

    On a terminal the stream is unbuffered: one Ctrl-D on an empty line ends the paste,
    where a buffered read would wait for a second one.
    """
    if is_terminal(sys.stdin):
        print(hint, file=sys.stderr, flush=True)
        return getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
    return sys.stdin.buffer


def _read_all(stream: Any) -> bytes:
    chunks = []
    while chunk := stream.read(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def read_bytes(path: str) -> bytes:
    """The bytes of `path`, or of stdin for `-`; InputError (one line) for a missing, directory or unreadable path."""
    if path == "-":
        return _read_all(stdin_binary())
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {os_reason(exc)}") from None


def read_text(path: str) -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped); InputError when it is not UTF-8 text."""
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{'stdin' if path == '-' else path}: not UTF-8 text") from None


@dataclass(slots=True)
class BadLines:
    """JSONL lines that were skipped: `source:line: why`, in order."""

    lines: list[str] = field(default_factory=list)

    def add(self, source: str, number: int, why: str) -> None:
        self.lines.append(f"{source}:{number}: {why}")

    def __len__(self) -> int:
        return len(self.lines)

    def print(self, stream: IO[str] | None = None) -> None:
        """One `skipped source:N: why` line each on stderr, then the count."""
        stream = stream or sys.stderr
        for line in self.lines:
            print(f"skipped {line}", file=stream)
        if self.lines:
            n = len(self.lines)
            print(f"{n} bad line{'s' if n != 1 else ''} skipped", file=stream)


def jsonl_objects(text: str, source: str, bad: BadLines) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON object line; blank lines ignored, bad ones recorded in `bad`."""
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.add(source, n, f"not JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            bad.add(source, n, f"not a JSON object (a {_json_type(item)})")
            continue
        yield n, item


def _json_type(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)
_FACTOR = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """`10MB`, `512k`, `1.5 MiB`, `1048576` -> bytes (K/M/G are powers of 1024); for argparse `type=`."""
    m = _SIZE.match(str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"expected a size like 10MB, 512KB or 1048576, not {text!r}")
    value = int(float(m[1]) * _FACTOR[m[2].lower()])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the size must be more than 0 bytes, not {text!r}")
    return value


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Any]:
    """A bar with counts on stderr when stderr is a terminal; else a no-op. Yields `advance(n=1)`."""
    if not _stderr_is_terminal():
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
        redirect_stdout=False,  # what a command prints to stdout stays on stdout
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextmanager
def spinner(label: str, *, when: bool = True) -> Iterator[Any]:
    """A spinner on stderr while slow work runs (terminals only; else a no-op). Yields
    `update(text)` to say which step is running."""
    if not when or not _stderr_is_terminal():
        yield lambda text: None
        return
    from rich.console import Console

    with Console(file=sys.stderr).status(label) as status:
        yield lambda text: status.update(f"{label}: {text}")


def with_progress(items: Iterable[T], total: int | None, label: str) -> Iterator[T]:
    """Iterate `items`, advancing a `progress` bar (stderr, terminals only)."""
    with progress(total, label) as advance:
        for item in items:
            yield item
            advance()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
