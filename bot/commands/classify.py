"""`farmhand classify PATH.jsonl`: one JSON line out per input line {id, text}, in input order.

A broken input line (not JSON, no text) still gets its output line, with on_topic false
and an "error" field, so the output lines up with the input line for line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from knowledge import KnowledgeError, default_kb


def _lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from sys.stdin.buffer
        return
    with open(path, "rb") as fh:
        yield from fh


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
            m = kb.match(text)
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
        broken = classify(_lines(args.path), sys.stdout)
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if broken:
        print(f"warning: {broken} input line(s) could not be read; see their 'error' field", file=sys.stderr)
    return 0
