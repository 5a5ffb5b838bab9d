"""A sandbox forum on loopback and an adapter wired to it with the real pydiscourse client."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.config import DiscourseConfig
from bot.core.engine import Engine
from bot.discourse.adapter import DiscourseAdapter
from bot.ops.health import Health
from bot.sandbox import SandboxForum
from bot.state import Store
from bot.web import bound_port, build_app
from knowledge import default_kb

ON_TOPIC_TITLE = "Can I farm ThreeFold in a Proxmox VM?"
ON_TOPIC = (
    "I have a Proxmox server at home. Can I run a Zero OS node in a VM on it and still earn farming rewards?"
)
SECRET = "whsec-test-0123456789"
LOOKALIKE_TITLE = "Terraform deploy of a VM on the grid times out"
LOOKALIKE = "I'm deploying a full VM on the ThreeFold grid with the terraform provider and it times out. Why?"


@pytest.fixture
def forum():
    f = SandboxForum(api_key="test-key").start()
    f.add_user("farmhand", moderator=True)
    f.add_user("maria_mod", moderator=True)
    for name in ("alice", "bob"):
        f.add_user(name)
    yield f
    f.stop()


def make_cfg(forum: SandboxForum, **over) -> DiscourseConfig:
    fields = dict(
        url=forum.url, api_username="farmhand", api_key=forum.api_key, poll_seconds=0.1, request_timeout=3.0
    )
    fields.update(over)
    return DiscourseConfig(**fields)


@pytest.fixture
def make_adapter(forum, tmp_path):
    stores: list[Store] = []

    def build(*, shadow: bool = False, state: str = "state.sqlite3", **cfg_over) -> DiscourseAdapter:
        store = Store(tmp_path / state)
        stores.append(store)
        cfg = make_cfg(forum, **cfg_over)
        engine = Engine(default_kb(), answer_staff=cfg.answer_staff)
        return DiscourseAdapter(cfg, engine, store, Health(), shadow=shadow)

    yield build
    for s in stores:
        s.close()


def age_state(store: Store, seconds: float) -> None:
    """Make the claims and retry times in `store` `seconds` older: time passing (or a restart
    long after the last run), without sleeping through it."""
    db = store._db
    db.execute("UPDATE claims SET claimed_at = claimed_at - ?", (seconds,))
    db.execute(
        "UPDATE retries SET first_at = first_at - ?, next_at = next_at - ?, sent_at = sent_at - ?",
        (seconds, seconds, seconds),
    )


def bot_replies(forum: SandboxForum, topic_id: int | None = None) -> list[dict]:
    return forum.posts(topic_id=topic_id, username="farmhand")


@pytest.fixture
async def hooked(forum, make_adapter):
    adapter = make_adapter()
    await adapter.start()
    runner = web.AppRunner(build_app(Health(), [adapter.webhook_route(SECRET)]), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{bound_port(runner)}/webhooks/discourse"
    yield adapter, url
    await runner.cleanup()
