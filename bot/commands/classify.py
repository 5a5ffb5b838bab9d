"""`farmhand classify [PATH.jsonl|-]`: one JSON line out per input line {id, text}, in input order.

A broken input line (not JSON, no text) still gets its output line, with on_topic false
and an "error" field, so the output lines up with the input line for line. On a terminal with
nothing piped in it asks for the paste; with stderr on a terminal and the output going
elsewhere, a bar shows the count on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bot.inputs import InputError, is_terminal, os_reason, stdin_binary, with_progress
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
    """(id, text, error) of one input line."""
    line = raw.decode("utf-8", errors="replace").strip()
    if not line:
        return None, None, "empty line"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"not JSON: {exc.msg}"
    except RecursionError:
        return None, None, "not JSON: nested too deeply"
    if not isinstance(obj, dict):
        return None, None, "not a JSON object"
    post_id = obj.get("id")
    text = obj.get("text")
    if not isinstance(text, str):
        return post_id, None, "missing 'text' (string)"
    return post_id, text, None


def classify(lines: Iterator[bytes], out: IO[str]) -> int:
    """Write one result line per input line; return how many lines were broken."""
    kb = default_kb()
    broken = 0
    for raw in lines:
        post_id, text, error = _parse(raw)
        if error is not None or text is None:
            broken += 1
            row: dict[str, Any] = {
                "id": post_id,
                "on_topic": False,
                "entry": None,
                "score": 0.0,
                "error": error,
            }
        else:
            m = kb.match(text, candidate=False)  # no candidate printed: chooser only when sure
            row = {
                "id": post_id,
                "on_topic": m.on_topic,
                "entry": m.entry,
                "score": round(m.score, 4),
                "band": m.band or ("sure" if m.on_topic else "off"),
                "why": [r for r in m.reasons if r.startswith(("veto:", "feature "))][:3],
            }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return broken


def main(args: argparse.Namespace) -> int:
    try:
        default_kb()
        lines = _lines(args.path)
        if _show_bar(args.path):
            lines = with_progress(lines, _count_lines(args.path), "classifying")
        broken = classify(lines, sys.stdout)
    except (KnowledgeError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.path}: {os_reason(exc)}", file=sys.stderr)
        return 2
    if broken:
        print(f"warning: {broken} input line(s) could not be read; see their 'error' field", file=sys.stderr)
    return 0
