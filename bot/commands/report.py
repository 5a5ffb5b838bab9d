"""`farmhand report -c CONFIG [--since 7d]`: the moderators' markdown digest of the audit log."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, Config, ConfigError, load_config

if TYPE_CHECKING:
    from bot.state import Store


def load_config_offline(path: str | Path) -> Config:
    """Load a config for a command that never connects (report, purge): platform secrets may be absent.

    An admin reading the digest from a shell has the config but usually not the bot's
    tokens (they live in the service's environment file), and these commands need none.
    """
    env = dict(os.environ)
    for name in (ENV_DISCOURSE_KEY, ENV_DISCORD_TOKEN):
        if not env.get(name, "").strip():
            env[name] = "unused-offline"  # placeholder, never sent anywhere
    return load_config(path, env=env)


def existing_state(cfg: Config) -> Path:
    """The state file, or ValueError (one line) when it does not exist: never create one here."""
    if not cfg.state_path.is_file():
        raise ValueError(f"{cfg.state_path}: no state file yet (has the bot run with {cfg.source}?)")
    return cfg.state_path


def open_existing_state(config_path: str | Path) -> tuple[Config, Store]:
    """Config (secrets optional) and the Store of a bot that has run; one-line ValueError otherwise."""
    from bot.state import StateError, Store

    try:
        cfg = load_config_offline(config_path)
        return cfg, Store(existing_state(cfg))
    except (ConfigError, StateError) as exc:
        raise ValueError(str(exc)) from None


def record_json(rec: object) -> dict[str, object]:
    """One decision (audit-log row or replayed post) as a JSON object; times in ISO 8601 UTC."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(rec):  # type: ignore[arg-type]
        value = getattr(rec, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def main(args: argparse.Namespace) -> int:
    """Print the digest of the audit log since `--since` (markdown, or one JSON object with --json)."""
    from bot.ops.report import describe_since, parse_since, render_digest

    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now=now)
        cfg, store = open_existing_state(args.config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bot.labels import triage_section

    try:
        records = store.decisions_since(since)
        triage = triage_section(store.triage_items(), store.labels(), since=since)
    finally:
        store.close()
    if cfg.min_score is not None:
        threshold = cfg.min_score
    else:
        import knowledge

        threshold = knowledge.default_kb().threshold
    words = describe_since(args.since)
    if getattr(args, "json", False):
        doc = {
            "range": words,
            "from": since.isoformat(),
            "to": now.isoformat(),
            "threshold": threshold,
            "decisions": [record_json(r) for r in records],
        }
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    period = f"{since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    sys.stdout.write(
        render_digest(
            records,
            title=f"farmhand digest: {words}",
            threshold=threshold,
            period=period,
            extra=triage,
        )
    )
    return 0
