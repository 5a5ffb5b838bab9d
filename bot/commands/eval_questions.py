"""`farmhand eval questions FILE.jsonl`: precision, recall, F1 and the misses of the matcher."""

from __future__ import annotations

import argparse
import json
import sys

from knowledge import KnowledgeError, default_kb
from knowledge.evaluate import read_labelled, score


def main(args: argparse.Namespace) -> int:
    try:
        kb = default_kb()
        rows, errors = read_labelled(args.path)
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    figures = score(rows, (kb.match(r["text"]) for r in rows), errors)
    if getattr(args, "json", False):
        print(json.dumps(figures.to_dict(), ensure_ascii=False))
        return 0
    print(f"posts: {len(rows)}  threshold: {kb.threshold}")
    print(f"precision {figures.precision:.3f}  recall {figures.recall:.3f}  F1 {figures.f1:.3f}")
    print(f"tp {figures.tp}  fp {figures.fp}  fn {figures.fn}  tn {figures.tn}")
    for title, misses in (
        ("false positives", figures.false_positives),
        ("false negatives", figures.false_negatives),
    ):
        print(f"{title} ({len(misses)}):")
        for m in misses:
            print(f"  {m.id}  score {m.score:.2f}  {m.entry or '-'}  {m.text}")
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    return 0
