"""Sync application commands only when the command set changed (Discord rate-limits syncs).

The hash of the commands as discord.py would upload them (plus the application id, so a
new application gets its commands) is kept in the Store; a fresh install has none and
syncs on its first start.
"""

from __future__ import annotations

import hashlib
import json
import logging

from discord import app_commands

from bot.state import Store

log = logging.getLogger(__name__)

HASH_KEY = "discord:commands_hash"


def command_hash(tree: app_commands.CommandTree, application_id: int | None) -> str:
    """A stable hash of the global command set as it would be uploaded."""
    payload = sorted(
        (cmd.to_dict(tree) for cmd in tree.get_commands()),
        key=lambda c: (c.get("type", 1), c["name"]),
    )
    blob = json.dumps({"app": application_id, "commands": payload}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


async def sync_if_changed(tree: app_commands.CommandTree, store: Store, application_id: int | None) -> bool:
    """Upload the commands when their hash differs from the stored one; True when it synced."""
    digest = command_hash(tree, application_id)
    if store.kv_get(HASH_KEY) == digest:
        log.info("discord: application commands unchanged, not syncing")
        return False
    synced = await tree.sync()
    store.kv_set(HASH_KEY, digest)
    log.info("discord: synced %d application commands", len(synced))
    return True
