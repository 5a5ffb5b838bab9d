"""`farmhand labels export -c CONFIG [--out FILE]`: the moderators' decisions as training JSONL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.report import open_existing_state


def main(args: argparse.Namespace) -> int:
    from bot.labels import export_jsonl

    try:
        _cfg, store = open_existing_state(args.config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        text = export_jsonl(store.labels())
    finally:
        store.close()
    if args.out and args.out != "-":
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {text.count(chr(10))} labels to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
