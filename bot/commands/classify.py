"""`farmhand classify [PATH.jsonl|-]`: one JSON line out per good input line {id, text}, in input order.

A bad input line (not JSON, not an object, no text) gets no output line: it is named on stderr
as `skipped FILE:LINE: why`, counted, and makes the exit code 1, as in every command that reads
JSONL; blank lines are ignored. On a terminal with nothing piped in it asks for the paste; with
stderr on a terminal and the output going elsewhere, a bar shows the count on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from bot.inputs import BadLines, InputError, is_terminal, os_reason, stdin_binary, with_progress
from knowledge import KnowledgeError, default_kb

PASTE_HINT = (
    'Paste JSONL, one {"id": ..., "text": ...} per line, then press Ctrl-D on a new line (Ctrl-C to cancel).'
)


def _lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from stdin_binary(PASTE_HINT)
        return
    if Path(path).is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        fh = open(path, "rb")  # noqa: SIM115 -- closed below; open errors are said in words
    except OSError as exc:
        raise InputError(f"{path}: {os_reason(exc)}") from None
    with fh:
        yield from fh


def _count_lines(path: str) -> int | None:
    """Lines in `path` for the bar's total (one cheap pass); None for stdin or an unreadable path."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None


def _show_bar(path: str) -> bool:
    """A bar only when stderr is a terminal the output lines do not share, and nobody is pasting."""
    if not is_terminal(sys.stderr) or is_terminal(sys.stdout):
        return False
    return not (path == "-" and is_terminal(sys.stdin))


def _parse(raw: bytes) -> tuple[Any, str | None, str | None]:
    """(id, text, why it is refused) of one non-blank input line."""
    line = raw.decode("utf-8", errors="replace").strip()
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"not JSON ({exc.msg})"
    except RecursionError:
        return None, None, "not JSON (nested too deeply)"
    if not isinstance(obj, dict):
        return None, None, f"not a JSON object (a {_json_type(obj)})"
    text = obj.get("text")
    if not isinstance(text, str):
        return obj.get("id"), None, 'no "text" (the post, a string)'
    return obj.get("id"), text, None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {list: "list", str: "string", int: "number", float: "number"}.get(type(value), "null")


def classify(lines: Iterable[bytes], out: IO[str], bad: BadLines | None = None, source: str = "stdin") -> int:
    """Write one result line per good input line; record the bad ones in `bad`; return how many were written."""
    kb = default_kb()
    bad = BadLines() if bad is None else bad
    written = 0
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        post_id, text, error = _parse(raw)
        if error is not None or text is None:
            bad.add(source, n, error or "no text")
            continue
        m = kb.match(text, candidate=False)  # no candidate printed: chooser only when sure
        row = {
            "id": post_id,
            "on_topic": m.on_topic,
            "entry": m.entry,
            "score": round(m.score, 4),
            "band": m.band or ("sure" if m.on_topic else "off"),
            "why": m.why(),
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand classify`."""
    bad = BadLines()
    try:
        default_kb()
        lines: Iterable[bytes] = _lines(args.path)
        if _show_bar(args.path):
            lines = with_progress(lines, _count_lines(args.path), "classifying")
        classify(lines, sys.stdout, bad, "stdin" if args.path == "-" else args.path)
    except (KnowledgeError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.path}: {os_reason(exc)}", file=sys.stderr)
        return 2
    bad.print()
    return 1 if bad else 0
