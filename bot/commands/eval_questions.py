"""`farmhand eval questions FILE.jsonl|-`: precision, recall, F1 and the misses of the matcher.

Each line: `{"id": ..., "text": ..., "label": "vm_farming"|"other"}`. Bad lines (not JSON, no
text, no or an unknown label) are skipped and named on stderr (exit 1); a missing or directory
path, an empty file or one without a single usable line is a one-line error (exit 2), never a
perfect score on nothing.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.inputs import BadLines, InputError, jsonl_objects, read_text, with_progress
from knowledge import KnowledgeError, default_kb
from knowledge.evaluate import labelled_row, score


def read_rows(path: str, bad: BadLines) -> list[dict[str, str]]:
    """The good labelled rows of `path` (`-`: stdin); bad lines go to `bad`.

    InputError (one line, naming the path and the first bad line) when no line is usable.
    """
    text = read_text(path)
    source = "stdin" if path == "-" else path
    rows = []
    for n, obj in jsonl_objects(text, source, bad):
        row, why = labelled_row(obj, n)
        if row is None:
            bad.add(source, n, why or "not a labelled post")
        else:
            rows.append(row)
    if not rows:
        if not bad:
            raise InputError(f"{source}: no labelled posts (the file is empty)")
        more = len(bad) - 1
        tail = f" (and {more} more bad line{'s' if more != 1 else ''})" if more else ""
        raise InputError(f"no labelled posts in {source}: {bad.lines[0]}{tail}")
    return rows


def main(args: argparse.Namespace) -> int:
    bad = BadLines()
    try:
        kb = default_kb()
        rows = read_rows(args.path, bad)
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    matches = (kb.match(r["text"]) for r in with_progress(rows, len(rows), "matching posts"))
    figures = score(rows, matches, bad.lines)
    if getattr(args, "json", False):
        print(json.dumps(figures.to_dict(), ensure_ascii=False))
        bad.print()
        return 1 if bad else 0
    print(f"posts: {len(rows)}  threshold: {kb.threshold}")
    # A ratio over nothing is not a perfect score: say so instead of printing 1.000.
    precision = f"{figures.precision:.3f}" if figures.tp + figures.fp else "n/a (nothing answered)"
    recall = f"{figures.recall:.3f}" if figures.tp + figures.fn else "n/a (no vm_farming posts)"
    f1 = f"{figures.f1:.3f}" if figures.tp + figures.fp and figures.tp + figures.fn else "n/a"
    print(f"precision {precision}  recall {recall}  F1 {f1}")
    print(f"tp {figures.tp}  fp {figures.fp}  fn {figures.fn}  tn {figures.tn}")
    for title, misses in (
        ("false positives", figures.false_positives),
        ("false negatives", figures.false_negatives),
    ):
        print(f"{title} ({len(misses)}):")
        for m in misses:
            print(f"  {m.id}  score {m.score:.2f}  {m.entry or '-'}  {m.text}")
    bad.print()
    return 1 if bad else 0
