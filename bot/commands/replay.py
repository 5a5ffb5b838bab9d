"""`farmhand replay EXPORT|- [--json]`: run the matcher over an exported history and print the digest.

Bad JSONL lines are skipped, each named on stderr with its line number and counted; the exit
code is then 1 (the digest of the good lines is still printed). A progress bar shows on
stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand replay`."""
    import knowledge
    from bot.commands.report import record_json
    from bot.inputs import BadLines, with_progress
    from bot.ops.replay import ExportError, read_export, replay, replay_report

    bad = BadLines()
    try:
        posts = read_export(args.export, bad)
        kb = knowledge.default_kb()
    except (ExportError, knowledge.KnowledgeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not posts and not bad:
        print(f"error: {args.export}: no posts in this export", file=sys.stderr)
        return 2
    result = replay(with_progress(posts, len(posts), "replaying"), kb)
    source = "stdin" if args.export == "-" else args.export
    if getattr(args, "json", False):
        doc = {
            "source": source,
            "threshold": result.threshold,
            "posts": len(posts),
            "considered": len(result.records),
            "answered": sum(r.action != "silent" for r in result.records),
            "answered_at": {f"{t:.2f}": n for t, n in sorted(result.answered_at.items())},
            "skipped": result.skipped,
            "bad_lines": bad.lines,
            "records": [record_json(r) for r in result.records],
        }
        print(json.dumps(doc, ensure_ascii=False))
    else:
        sys.stdout.write(replay_report(result, source=source))
    bad.print()
    return 1 if bad else 0
