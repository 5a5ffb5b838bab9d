"""`farmhand config check -c CONFIG`: validate a config and its secrets without connecting.

Reports every problem at once, one `error: FILE:LINE: message` line each, then how many;
checks that `state_path` is a file location this user can write (the unit's `ExecStartPre`
runs this command). Exit 0 when the config is usable, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.config import Config, ConfigError, load_config, state_path_problem


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand config check`."""
    problems: list[str] = []
    cfg: Config | None = None
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        problems = exc.problems
    if cfg is None and problems:
        # The state path is checked even when other keys are wrong, so every problem shows at once.
        state = _state_path_of(args.config)
        if state is not None and (why := state_path_problem(state)):
            problems.append(f"{args.config}: {why}")
    elif cfg is not None:
        if why := state_path_problem(cfg.state_path):
            problems.append(f"{cfg.source}: {why}")
        if cfg.discourse is None and cfg.discord is None:
            problems.append(f"{cfg.source}: configure at least one of discourse, discord")
    if problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        if len(problems) > 1:
            print(f"{len(problems)} problems in {args.config}", file=sys.stderr)
        return 2
    if cfg is None:  # pragma: no cover (a ConfigError always carries a problem)
        return 2
    platforms = [name for name in ("discourse", "discord") if getattr(cfg, name) is not None]
    http = f", http on {cfg.http.host}:{cfg.http.port}" if cfg.http else ""
    print(
        f"ok: {cfg.source}: mode {cfg.mode}, platforms {', '.join(platforms)}, state {cfg.state_path}{http}"
    )
    return 0


def _state_path_of(path: str) -> Path | None:
    """The config's state_path when it reads as one, despite other problems."""

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    value = data.get("state_path") if isinstance(data, dict) else None
    return Path(value).expanduser() if isinstance(value, str) and value.strip() else None
