"""`farmhand replay EXPORT`: run the matcher over an exported history and print the digest."""

from __future__ import annotations

import argparse
import sys


def main(args: argparse.Namespace) -> int:
    import knowledge
    from bot.ops.replay import ExportError, read_export, replay, replay_report

    try:
        posts = read_export(args.export)
        kb = knowledge.default_kb()
    except (ExportError, knowledge.KnowledgeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = replay(posts, kb)
    sys.stdout.write(replay_report(result, source=args.export))
    return 0
