"""Crash recovery end to end: a state file with claims left pending, then the real client starts."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.discord.service import run_discord
from tests.bot.discord.conftest import QEMU_DMIDECODE, QUESTION
from tests.bot.discord.fake_discord import WATCHED_ID, FakeDiscord, running_fake
from tests.bot.discord.test_end_to_end import (
    ALICE,
    BOB,
    NO_PINGS,
    _config,
    _connected,
    _message_bodies,
    _sent_to,
    _until,
)

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def _bot(fake, tmp_path, engine, store, health):
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_discord(
            _config(fake, tmp_path),
            engine,
            store,
            health,
            stop,
            guild_ready_timeout=0.05,
            recovery_spacing=0.01,
        )
    )
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def _dm_channel(fake: FakeDiscord) -> int:
    dm = fake.next_id()
    fake.channels[dm] = {"id": str(dm), "type": 1, "recipients": [ALICE], "last_message_id": None}
    return dm


async def test_pending_claims_are_recovered_at_start_without_double_replies(tmp_path, engine, store, health):
    async with running_fake() as fake:
        # What a crashed process left behind: four messages claimed, none marked posted.
        lost = fake.message(WATCHED_ID, ALICE, QUESTION)  # (a) the reply was never sent
        done = fake.message(WATCHED_ID, BOB, QUESTION)  # (b) the reply was sent, not recorded
        earlier_reply = fake.message(WATCHED_ID, fake.bot_user, "earlier answer", reply_to=int(done["id"]))
        gone = fake.message(WATCHED_ID, ALICE, QUESTION)  # (c) deleted by its author since
        fake.delete_message(int(gone["id"]))
        dm = _dm_channel(fake)
        att = fake.add_attachment("dmidecode.txt", QEMU_DMIDECODE.encode())
        lost_dm = fake.message(dm, ALICE, "", guild=False, attachments=[att])  # a DM never answered
        for msg in (lost, done, gone, lost_dm):
            assert store.claim("discord", f"msg:{msg['id']}", where=msg["channel_id"])
        assert store.claim("discord", "interaction:123", where=str(WATCHED_ID))  # expired: left

        async with _bot(fake, tmp_path, engine, store, health):
            await _until(lambda: _connected(health))
            await _until(lambda: store.claim_state("discord", f"msg:{lost_dm['id']}") == "posted")
            await _until(lambda: store.claim_state("discord", f"msg:{gone['id']}") is None)
            await asyncio.sleep(0.3)  # anything wrongly queued would land now

            # (a) exactly one reply, to the lost question, pinging nobody
            (reply,) = _sent_to(fake, WATCHED_ID)
            assert int(reply.body["message_reference"]["message_id"]) == int(lost["id"])
            assert reply.body["allowed_mentions"] == NO_PINGS
            assert store.claim_state("discord", f"msg:{lost['id']}") == "posted"
            # (b) the earlier reply was found: marked posted, nothing sent again
            assert store.claim_state("discord", f"msg:{done['id']}") == "posted"
            refs = [
                int((w.body or {}).get("message_reference", {}).get("message_id", 0)) for w in fake.posts()
            ]
            assert int(done["id"]) not in refs
            assert int(earlier_reply["id"]) in fake.messages  # the earlier reply is still there
            # (c) the deleted message: claim released, no post, the bot still running
            assert store.claim_state("discord", f"msg:{gone['id']}") is None
            # the DM got its verdict
            (dm_reply,) = _sent_to(fake, dm)
            assert dm_reply.body["embeds"][0]["title"] == "Verdict: Virtual machine"
            # the interaction claim is left as it was
            assert store.claim_state("discord", "interaction:123") == "claimed"
            assert len(fake.posts()) == 2
            for body in _message_bodies(fake):
                mentions = body["allowed_mentions"]
                assert mentions["parse"] == [] and not mentions.get("replied_user"), body

        # Another start: nothing is pending any more, nothing is posted again.
        async with _bot(fake, tmp_path, engine, store, health):
            await _until(lambda: len(fake.identify_payloads) == 2 and _connected(health))
            await asyncio.sleep(0.2)
        assert len(fake.posts()) == 2
