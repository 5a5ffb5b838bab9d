"""`farmhand purge -c CONFIG --user ID`: remove a person's records from the state (privacy requests)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.commands.report import open_existing_state

log = logging.getLogger(__name__)


def main(args: argparse.Namespace) -> int:
    user = str(args.user).strip()
    if not user:
        print("error: --user needs a user id (forum or Discord)", file=sys.stderr)
        return 2
    try:
        _cfg, store = open_existing_state(args.config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = store.path
    try:
        removed = store.purge_user(user)
    finally:
        store.close()
    # Log the count only: the id is the person's, and the log outlives the purge.
    log.info("purge: removed %d records", removed)
    print(f"removed {removed} record{'s' if removed != 1 else ''} of user {user} from {path}")
    return 0
