"""`farmhand ask [TEXT|-] [--json]`: would the bot answer this text, and with what."""

from __future__ import annotations

import argparse
import json
import sys

from knowledge import KnowledgeError, default_kb, render_answer

MAX_INPUT_BYTES = 10 * 1024 * 1024


def _read(arg: str) -> str:
    if arg != "-":
        return arg
    # Bytes, not text: binary junk on stdin must not raise UnicodeDecodeError.
    return sys.stdin.buffer.read(MAX_INPUT_BYTES).decode("utf-8", errors="replace")


def main(args: argparse.Namespace) -> int:
    try:
        kb = default_kb()
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = _read(args.text)
    m = kb.match(text)
    entry = kb.get(m.entry) if m.entry else None
    reply = render_answer(entry) if entry is not None and m.on_topic else None
    if args.json:
        out = {
            "on_topic": m.on_topic,
            "entry": m.entry,
            "score": round(m.score, 4),
            "reply": reply,
            "candidate": m.candidate,
            "band": m.to_dict()["band"],
            "reasons": list(m.reasons),
        }
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if m.on_topic:
        print(f"on topic: yes, entry {m.entry} (p {m.score:.2f}, band sure)")
    else:
        hint = f"; closest entry for an explicit call: {m.candidate}" if m.candidate else ""
        band = m.to_dict()["band"]
        print(f"on topic: no (p {m.score:.2f}, band {band}, threshold {kb.threshold}){hint}")
    for reason in m.reasons:
        print(f"  - {reason}")
    if reply:
        print()
        print(reply)
    return 0
