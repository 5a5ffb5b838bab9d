"""`farmhand config check -c CONFIG`: validate a config and its secrets without connecting."""

from __future__ import annotations

import argparse
import sys

from bot.config import ConfigError, load_config


def main(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    platforms = [name for name in ("discourse", "discord") if getattr(cfg, name) is not None]
    if not platforms:
        print(f"error: {cfg.source}: configure at least one of discourse, discord", file=sys.stderr)
        return 2
    http = f", http on {cfg.http.host}:{cfg.http.port}" if cfg.http else ""
    print(
        f"ok: {cfg.source}: mode {cfg.mode}, platforms {', '.join(platforms)}, state {cfg.state_path}{http}"
    )
    return 0
