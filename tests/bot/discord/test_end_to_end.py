"""The real discord.py client against a local fake Discord (REST + websocket gateway on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.config import Config, DiscordConfig
from bot.discord.service import DiscordStartupError, run_discord
from tests.bot.discord.conftest import LOOK_ALIKE, QEMU_DMIDECODE, QUESTION
from tests.bot.discord.fake_discord import (
    APP_ID,
    FORUM_ID,
    MOD_ROLE_ID,
    TOKEN,
    UNWATCHED_ID,
    WATCHED_ID,
    FakeDiscord,
    Write,
    running_fake,
    user_payload,
)

pytestmark = pytest.mark.timeout(60)

ALICE = user_payload(700_000_000_000_000_001, "alice")
BOB = user_payload(700_000_000_000_000_002, "bob")
MOD = user_payload(700_000_000_000_000_003, "mod")
OTHER_BOT = user_payload(700_000_000_000_000_004, "otherbot", bot=True)
NO_PINGS = {"parse": [], "replied_user": False}


def _config(fake: FakeDiscord, tmp_path: Path, token: str = TOKEN, cooldown: float = 0) -> Config:
    return Config(
        state_path=tmp_path / "state.sqlite3",
        discord=DiscordConfig(
            token=token,
            watch_channels=(WATCHED_ID, FORUM_ID),
            api_base=fake.api_base,
            moderator_roles=(MOD_ROLE_ID,),
            cooldown_seconds=cooldown,
        ),
    )


@contextlib.asynccontextmanager
async def _bot(fake, tmp_path, engine, store, health, token=TOKEN, cooldown=0):
    stop = asyncio.Event()
    cfg = _config(fake, tmp_path, token, cooldown)
    task = asyncio.create_task(run_discord(cfg, engine, store, health, stop, guild_ready_timeout=0.05))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _connected(health) -> bool:
    return health.snapshot()["platforms"].get("discord", {}).get("connected", False)


def _sent_to(fake: FakeDiscord, channel_id: int) -> list[Write]:
    return [w for w in fake.posts() if w.method == "POST" and w.path == f"/channels/{channel_id}/messages"]


def _message_bodies(fake: FakeDiscord) -> list[dict]:
    """Every body the bot sent that carries content or embeds (callbacks unwrapped)."""
    bodies = []
    for w in fake.posts():
        body = w.body or {}
        if "/callback" in w.path:
            body = body.get("data") or {}
        if body.get("content") or body.get("embeds"):
            bodies.append(body)
    return bodies


async def test_end_to_end_against_fake_discord(tmp_path, engine, store, health):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health):
        await _until(lambda: _connected(health))
        # discord.py was pointed at the fake for both REST and the gateway URL it advertised.
        assert fake.gateway_queries[0]["encoding"] == "json"
        assert fake.identify_payloads[0]["intents"] & (1 << 15), "Message Content intent requested"
        assert fake.command_puts == 1
        names = {(c["name"], c["type"]) for c in fake.commands}
        assert names == {("baremetal", 1), ("analyze", 1), ("Explain bare metal", 3), ("Analyze dump", 3)}

        # 1. a question in a watched channel: one reply, in reply to it
        question = fake.message(WATCHED_ID, ALICE, QUESTION)
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.wait_for_writes(1)
        # 2. the same event again, and after a RESUME that replays it: no second reply
        await fake.dispatch("MESSAGE_CREATE", question)
        await fake.reconnect_with_replay(1)
        await asyncio.wait_for(fake.ready.wait(), 5)
        assert fake.resumes, "the client resumed the session"
        # 3. a look-alike in the watched channel, the question in an unwatched one, another bot
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, BOB, LOOK_ALIKE))
        await fake.dispatch("MESSAGE_CREATE", fake.message(UNWATCHED_ID, BOB, QUESTION))
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, OTHER_BOT, QUESTION))
        # 4. a forum post: answered inside its thread
        thread, starter = fake.forum_post(BOB, "VM farming?", QUESTION)
        await fake.dispatch("THREAD_CREATE", thread)
        await fake.dispatch("MESSAGE_CREATE", starter)
        await fake.wait_for_writes(2)
        await asyncio.sleep(0.2)  # anything wrongly queued would land now

        replies = _sent_to(fake, WATCHED_ID)
        assert len(replies) == 1
        assert replies[0].body["message_reference"]["message_id"] in (question["id"], int(question["id"]))
        assert "Zero OS" in replies[0].body["content"] or "ZOS" in replies[0].body["content"]
        assert _sent_to(fake, UNWATCHED_ID) == []
        forum = _sent_to(fake, int(thread["id"]))
        assert len(forum) == 1
        assert len(fake.posts()) == 2

        # 5. a DM with an attached dump: a verdict embed
        dm_channel = fake.next_id()
        fake.channels[dm_channel] = {"id": str(dm_channel), "type": 1, "recipients": [ALICE]}
        att = fake.add_attachment("dmidecode.txt", QEMU_DMIDECODE.encode())
        await fake.dispatch(
            "MESSAGE_CREATE", fake.message(dm_channel, ALICE, "", guild=False, attachments=[att])
        )
        (dm,) = [w for w in await fake.wait_for_writes(3) if w.path == f"/channels/{dm_channel}/messages"]
        embed = dm.body["embeds"][0]
        assert embed["title"] == "Verdict: Virtual machine"
        assert any(f["name"] == "Evidence" for f in embed["fields"])
        assert "4c4c4544-0042" not in str(dm.body), "the UUID is masked"

        # 6. /analyze with a pasted dump whose newlines an old client flattened: ephemeral defer, then
        # the deferred response edited (not a first follow-up, which Discord deprecated)
        flat = " ".join(QEMU_DMIDECODE.split())
        inter = fake.interaction("analyze", ALICE, options=[{"name": "text", "type": 3, "value": flat}])
        await fake.dispatch("INTERACTION_CREATE", inter)
        writes = await fake.wait_for_writes(5)
        callback = next(w for w in writes if w.path.startswith(f"/interactions/{inter['id']}/"))
        assert callback.body["type"] == 5 and callback.body["data"]["flags"] & 64
        webhook = f"/webhooks/{APP_ID}/{inter['token']}"
        assert [w for w in writes if w.path == webhook] == [], "no follow-up for a one-message answer"
        (edit,) = [w for w in writes if w.path == f"{webhook}/messages/@original"]
        assert edit.method == "PATCH"
        assert edit.body["embeds"][0]["title"].startswith("Verdict: ")
        assert fake.followups_edited_loading == [] and fake.refused == []

        # 7. /baremetal: a member gets it ephemeral; a moderator posts it publicly, addressing a user unpinged
        before = len(fake.posts())
        member_call = fake.interaction(
            "baremetal", BOB, options=[{"name": "topic", "type": 3, "value": "vm-farming"}]
        )
        await fake.dispatch("INTERACTION_CREATE", member_call)
        mod_call = fake.interaction(
            "baremetal",
            MOD,
            roles=(MOD_ROLE_ID,),
            options=[
                {"name": "topic", "type": 3, "value": "vm-farming"},
                {"name": "user", "type": 6, "value": ALICE["id"]},
            ],
            resolved={"users": {ALICE["id"]: ALICE}},
        )
        await fake.dispatch("INTERACTION_CREATE", mod_call)
        writes = await fake.wait_for_writes(before + 2)
        by_id = {w.path.split("/")[2]: w.body for w in writes if w.path.startswith("/interactions/")}
        assert by_id[member_call["id"]]["type"] == 4
        assert by_id[member_call["id"]]["data"]["flags"] & 64, "non-moderators get it ephemeral"
        public = by_id[mod_call["id"]]["data"]
        assert not public.get("flags", 0) & 64
        assert public["content"].startswith(f"<@{ALICE['id']}>")

        # 8. the same interaction replayed: no second response
        await fake.dispatch("INTERACTION_CREATE", mod_call)
        await asyncio.sleep(0.2)
        assert len([w for w in fake.posts() if mod_call["id"] in w.path]) == 1

        # Nobody is ever pinged: every message body carries allowed_mentions that parse nothing.
        bodies = _message_bodies(fake)
        assert len(bodies) >= 6
        for body in bodies:
            mentions = body.get("allowed_mentions")
            assert mentions is not None and mentions["parse"] == [], body
            assert not mentions.get("users") and not mentions.get("roles"), body
            if "message_reference" in body:  # a reply would ping its author unless told not to
                assert mentions == NO_PINGS, body
            else:
                assert mentions.get("replied_user", False) is False, body

    decisions = store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert any(d.posted and d.kind == "new_topic" for d in decisions)


async def test_a_second_asker_of_the_same_question_gets_a_jump_link_to_the_answer(
    tmp_path, engine, store, health
):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health, cooldown=60):
        await _until(lambda: _connected(health))
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, ALICE, QUESTION))
        await fake.wait_for_writes(1)
        second = fake.message(WATCHED_ID, BOB, QUESTION)
        await fake.dispatch("MESSAGE_CREATE", second)
        await fake.wait_for_writes(2)
        full, link = _sent_to(fake, WATCHED_ID)
        answer = next(m for m in fake.messages.values() if m["content"] == full.body["content"])
        url = f"https://discord.com/channels/{answer['guild_id']}/{WATCHED_ID}/{answer['id']}"
        assert url in link.body["content"] and len(link.body["content"]) < 200
        assert int(link.body["message_reference"]["message_id"]) == int(second["id"])
        assert fake.refused == []


async def test_an_oversized_dm_attachment_gets_one_line_and_is_never_downloaded(
    tmp_path, engine, store, health
):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health):
        await _until(lambda: _connected(health))
        dm_channel = fake.next_id()
        fake.channels[dm_channel] = {"id": str(dm_channel), "type": 1, "recipients": [ALICE]}
        att = fake.add_attachment("dmesg.log", b"[    0.000000] Linux version", size=8 * 1024 * 1024)
        await fake.dispatch(
            "MESSAGE_CREATE", fake.message(dm_channel, ALICE, "", guild=False, attachments=[att])
        )
        (reply,) = await fake.wait_for_writes(1)
        await asyncio.sleep(0.1)
        assert len(fake.posts()) == 1
        (line,) = reply.body["content"].splitlines()
        assert "`dmesg.log` is 8 MiB, over my 1 MiB limit" in line and "`sudo dmidecode -t system`" in line
        assert fake.downloads == []


async def test_commands_are_synced_once_across_restarts(tmp_path, engine, store, health):
    async with running_fake() as fake:
        for _ in range(2):
            async with _bot(fake, tmp_path, engine, store, health):
                await _until(lambda: _connected(health))
        assert fake.command_puts == 1
        assert len(fake.identify_payloads) == 2
    # discord.py's class-level endpoints are restored after the run
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_missing_message_content_intent_fails_with_one_clear_line(tmp_path, engine, store, health):
    async with running_fake(refuse_intents=True) as fake:
        with pytest.raises(DiscordStartupError, match="Message Content Intent"):
            async with _bot(fake, tmp_path, engine, store, health) as task:
                await asyncio.wait_for(asyncio.shield(task), 10)
    assert health.snapshot()["platforms"]["discord"]["connected"] is False


async def test_wrong_token_fails_with_one_clear_line(tmp_path, engine, store, health):
    async with running_fake() as fake:
        with pytest.raises(DiscordStartupError, match="FARMHAND_DISCORD_TOKEN"):
            async with _bot(fake, tmp_path, engine, store, health, token="wrong") as task:
                await asyncio.wait_for(asyncio.shield(task), 10)
