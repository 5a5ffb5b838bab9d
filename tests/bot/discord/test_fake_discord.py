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


def _button(cid: str | None, label: str = "b") -> dict[str, Any]:
    b: dict[str, Any] = {"type": 2, "style": 1, "label": label}
    if cid is not None:
        b["custom_id"] = cid
    return b


def _row(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(items)}


async def test_component_limits():
    async with _client() as (fake, http):
        ok = [_row(*(_button(f"id{r}{i}", "x" * 80) for i in range(5))) for r in range(5)]
        await _post(http, {"content": "c", "components": ok})
        await _post(http, {"content": "c", "components": [_row(_button("x" * 100))]})
        select = {"type": 3, "custom_id": "s", "options": [{"label": str(i), "value": str(i)} for i in range(25)]}
        await _post(http, {"content": "c", "components": [_row(select)]})
        for bad in (
            [*ok, _row(_button("z"))],  # 6 rows
            [_row(*(_button(f"b{i}") for i in range(6)))],  # 6 buttons in a row
            [_row(_button("x" * 101))],  # custom id too long
            [_row(_button(None))],  # no custom id
            [_row(_button("same"), _button("same"))],  # duplicate ids
            [_row(_button("l", "x" * 81))],  # label too long
            [_row({**select, "options": select["options"] * 2})],  # 50 options
            [_row(select, _button("with-a-select"))],  # a select shares no row
        ):
            assert await _refused(http, {"content": "c", "components": bad}) == 50035
        assert len(fake.posts()) == 3 and len(fake.refused) == 8


async def test_editing_a_missing_message_is_unknown_message():
    async with _client() as (_fake, http):
        msg = await _post(http, {"content": "c"})
        route = Route("PATCH", "/channels/{channel_id}/messages/{message_id}", channel_id=WATCHED_ID, message_id=msg["id"])
        edited = await http.request(route, json={"content": "d"})
        assert edited["content"] == "d"
        gone = Route("PATCH", "/channels/{channel_id}/messages/{message_id}", channel_id=WATCHED_ID, message_id=1)
        with pytest.raises(discord.NotFound) as info:
            await http.request(gone, json={"content": "d"})
        assert info.value.code == 10008
