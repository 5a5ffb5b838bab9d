"""The fake Discord refuses what Discord refuses, seen through discord.py's own HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord
import pytest
from discord.http import HTTPClient, Route

from bot.discord.endpoints import api_endpoints
from tests.bot.discord.fake_discord import APP_ID, TOKEN, WATCHED_ID, running_fake, user_payload

pytestmark = pytest.mark.timeout(30)

ALICE = user_payload(700_000_000_000_000_001, "alice")


@contextlib.asynccontextmanager
async def _client():
    async with running_fake() as fake:
        with api_endpoints(fake.api_base):
            http = HTTPClient(asyncio.get_running_loop())
            await http.static_login(TOKEN)
            try:
                yield fake, http
            finally:
                await http.close()


async def _post(http: HTTPClient, body: dict[str, Any]) -> Any:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=WATCHED_ID)
    return await http.request(route, json=body)


async def _refused(http: HTTPClient, body: dict[str, Any]) -> int:
    with pytest.raises(discord.HTTPException) as info:
        await _post(http, body)
    return info.value.code


def _embed(**parts: Any) -> dict[str, Any]:
    return {"type": "rich", **parts}


def _fields(n: int, name: str = "n", value: str = "v") -> list[dict[str, Any]]:
    return [{"name": name, "value": value, "inline": False} for _ in range(n)]


async def test_message_content_limit():
    async with _client() as (fake, http):
        await _post(http, {"content": "x" * 2000})
        assert await _refused(http, {"content": "x" * 2001}) == 50035
        assert await _refused(http, {"content": ""}) == 50006
        assert len(fake.posts()) == 1 and len(fake.refused) == 2


@pytest.mark.parametrize(
    ("at_limit", "over_limit"),
    [
        ({"title": "t" * 256}, {"title": "t" * 257}),
        ({"description": "d" * 4096}, {"description": "d" * 4097}),
        ({"fields": _fields(25)}, {"fields": _fields(26)}),
        ({"fields": _fields(1, name="n" * 256)}, {"fields": _fields(1, name="n" * 257)}),
        ({"fields": _fields(1, value="v" * 1024)}, {"fields": _fields(1, value="v" * 1025)}),
        ({"footer": {"text": "f" * 2048}}, {"footer": {"text": "f" * 2049}}),
        ({"author": {"name": "a" * 256}}, {"author": {"name": "a" * 257}}),
        (  # 4,096 + 1,024 + 880 = 6,000 in total, then one more
            {
                "description": "d" * 4096,
                "fields": _fields(1, name="n" * 200, value="v" * 1024),
                "footer": {"text": "f" * 680},
            },
            {
                "description": "d" * 4096,
                "fields": _fields(1, name="n" * 200, value="v" * 1024),
                "footer": {"text": "f" * 681},
            },
        ),
    ],
)
async def test_embed_limits_at_their_edge(at_limit, over_limit):
    async with _client() as (fake, http):
        await _post(http, {"embeds": [_embed(**at_limit)]})
        assert await _refused(http, {"embeds": [_embed(**over_limit)]}) == 50035
        assert len(fake.posts()) == 1


async def test_at_most_ten_embeds_and_the_total_counts_across_them():
    async with _client() as (_fake, http):
        await _post(http, {"embeds": [_embed(title="t")] * 10})
        assert await _refused(http, {"embeds": [_embed(title="t")] * 11}) == 50035
        await _post(http, {"embeds": [_embed(description="d" * 3000)] * 2})
        assert await _refused(http, {"content": "", "embeds": [_embed(description="d" * 3001)] * 2}) == 50035


async def _callback(http: HTTPClient, inter: dict[str, Any], body: dict[str, Any]) -> Any:
    route = Route(
        "POST",
        "/interactions/{interaction_id}/{token}/callback",
        interaction_id=inter["id"],
        token=inter["token"],
    )
    return await http.request(route, json=body)


async def _followup(
    http: HTTPClient, inter: dict[str, Any], body: dict[str, Any], method: str = "POST"
) -> Any:
    path = "/webhooks/{app_id}/{token}" + ("/messages/@original" if method == "PATCH" else "")
    return await http.request(Route(method, path, app_id=APP_ID, token=inter["token"]), json=body)


async def test_interaction_acknowledged_twice_is_refused_with_40060():
    async with _client() as (fake, http):
        inter = fake.interaction("baremetal", ALICE)
        fake.register_interaction(inter)
        await _callback(http, inter, {"type": 4, "data": {"content": "hello"}})
        with pytest.raises(discord.HTTPException) as info:
            await _callback(http, inter, {"type": 4, "data": {"content": "again"}})
        assert info.value.code == 40060


async def test_interaction_answered_after_three_seconds_is_unknown_10062():
    async with _client() as (fake, http):
        inter = fake.interaction("baremetal", ALICE)
        fake.register_interaction(inter)
        fake.interactions[inter["id"]]["dispatched"] -= 3.01  # as if 3 s had passed
        with pytest.raises(discord.NotFound) as info:
            await _callback(http, inter, {"type": 5, "data": {"flags": 64}})
        assert info.value.code == 10062
        unknown = fake.interaction("baremetal", ALICE)  # never dispatched at all
        with pytest.raises(discord.NotFound):
            await _callback(http, unknown, {"type": 5, "data": {}})


async def test_followups_need_an_acknowledgement_and_the_first_after_a_defer_edits_the_loading_message():
    async with _client() as (fake, http):
        inter = fake.interaction("analyze", ALICE)
        fake.register_interaction(inter)
        with pytest.raises(discord.NotFound) as info:
            await _followup(http, inter, {"content": "too early"})
        assert info.value.code == 10015
        await _callback(http, inter, {"type": 5, "data": {"flags": 64}})
        with pytest.raises(discord.HTTPException) as info:
            await _followup(http, inter, {"content": "x" * 2001})
        assert info.value.code == 50035
        await _followup(http, inter, {"content": "answer"})
        assert fake.followups_edited_loading == [inter["token"]]
        # The proper way: edit @original, then follow-ups are new messages.
        other = fake.interaction("analyze", ALICE)
        fake.register_interaction(other)
        await _callback(http, other, {"type": 5, "data": {"flags": 64}})
        await _followup(http, other, {"content": "answer"}, method="PATCH")
        await _followup(http, other, {"content": "more"})
        assert fake.followups_edited_loading == [inter["token"]]
