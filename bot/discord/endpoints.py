"""Point discord.py at `discord.api_base`: REST routes and the gateway.

discord.py keeps both addresses on classes, not on a client: REST URLs are built from
`discord.http.Route.BASE`, and a fresh connection (and one after an invalidated session)
goes to `DiscordWebSocket.DEFAULT_GATEWAY`. So the redirection is process-wide; the
context manager restores both on exit so tests and several runs in one process stay
independent. The gateway URL is not guessed from `api_base`: like Discord's own
clients, the bot asks the REST API (`GET /gateway/bot`) where to connect.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

log = logging.getLogger(__name__)


@contextlib.contextmanager
def api_endpoints(api_base: str) -> Iterator[None]:
    """Send discord.py's REST calls to `api_base` inside the block; restore the defaults after."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base.rstrip("/")
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def use_advertised_gateway(http: HTTPClient) -> yarl.URL:
    """Ask `GET /gateway/bot` for the gateway URL and make new connections use it."""
    _shards, url, _limits = await http.get_bot_gateway()
    gateway = yarl.URL(url)
    if not gateway.path:
        gateway = gateway.with_path("/")
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    log.debug("gateway: %s", gateway)
    return gateway
