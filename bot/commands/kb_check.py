"""`farmhand kb check [--dir DIR]`: validate the knowledge base, every problem at once.

One `file:line: message` line per problem on stdout, then the count on stderr (exit 1); a
directory that cannot be a knowledge base (missing, a file, unreadable, no entry files) is one
`error: DIR: why` line (exit 2); `ok: N entries, M questions in DIR` otherwise (exit 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.check import check_located
from knowledge.loader import ENTRIES_DIR, directory_problem, entry_files, in_order, plural, read_entries


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand kb check`."""
    directory = Path(args.dir) if args.dir else ENTRIES_DIR
    if why := directory_problem(directory):
        print(f"error: {directory}: {why}", file=sys.stderr)
        return 2
    located, problems = read_entries(directory)
    problems = in_order(problems + check_located(located))
    if problems:
        for line in problems:
            print(line)
        bad = len({line.split(":", 1)[0] for line in problems})
        where = f"{bad} of {plural(len(entry_files(directory)), 'entry file')}"
        print(f"{plural(len(problems), 'problem')} in {directory} ({where})", file=sys.stderr)
        return 1
    questions = sum(len(item.entry.questions) for item in located)
    print(f"ok: {plural(len(located), 'entry', 'entries')}, {plural(questions, 'question')} in {directory}")
    return 0
