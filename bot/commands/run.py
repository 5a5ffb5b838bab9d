"""`farmhand run -c CONFIG`: the bot service, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.config import ConfigError, load_config

log = logging.getLogger(__name__)


async def _serve(cfg: object) -> None:
    from bot.service import run_service

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_service(cfg, stop=stop)  # type: ignore[arg-type]
    log.info("farmhand stopped")


def main(args: argparse.Namespace) -> int:
    """Load the config, run the service; one-line errors and exit 2 (config) or 1 (start-up)."""
    from bot.service import StartupError

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if cfg.discourse is None and cfg.discord is None:
        print(f"error: {cfg.source}: configure at least one of discourse, discord", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(cfg))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
