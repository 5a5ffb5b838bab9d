"""`farmhand kb check [--dir DIR]`: validate the knowledge base, one `file:line: message` per problem."""

from __future__ import annotations

import argparse
import sys

from knowledge import check
from knowledge.loader import ENTRIES_DIR, read_entries


def main(args: argparse.Namespace) -> int:
    directory = args.dir or ENTRIES_DIR
    problems = check(directory)
    for line in problems:
        print(line)
    if problems:
        n = len(problems)
        print(f"{n} problem{'s' if n != 1 else ''} in {directory}", file=sys.stderr)
        return 1
    located, _ = read_entries(directory)
    questions = sum(len(item.entry.questions) for item in located)
    entries = f"{len(located)} entr{'ies' if len(located) != 1 else 'y'}"
    print(f"ok: {entries}, {questions} question{'s' if questions != 1 else ''} in {directory}")
    return 0
