"""Triage on Discord, end to end: the real discord.py client against the local fake Discord.

unsure post -> one embed in the triage channel -> a moderator presses -> exactly one reply -> a label;
non-moderators refused; two moderators at once; the select menu; a restart between post and press.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, DiscordConfig
from bot.discord.service import run_discord
from bot.discord.triage import custom_id
from tests.band import unsure_message
from tests.bot.discord.conftest import LOOK_ALIKE, QUESTION
from tests.bot.discord.fake_discord import (
    MOD_ROLE_ID,
    TOKEN,
    TRIAGE_ID,
    WATCHED_ID,
    FakeDiscord,
    Write,
    running_fake,
    user_payload,
)

pytestmark = pytest.mark.timeout(60)

ALICE = user_payload(700_000_000_000_000_101, "alice")
BOB = user_payload(700_000_000_000_000_102, "bob")
MOD = user_payload(700_000_000_000_000_103, "mod")
MOD2 = user_payload(700_000_000_000_000_104, "mod2")
# In the abstain band of the shipped model: on topic, but not sure enough to auto-reply.
UNSURE = unsure_message(" pls")


def _config(fake: FakeDiscord, tmp_path: Path, **over) -> Config:
    return Config(
        state_path=tmp_path / "state.sqlite3",
        discord=DiscordConfig(
            token=TOKEN,
            watch_channels=(WATCHED_ID,),
            api_base=fake.api_base,
            moderator_roles=(MOD_ROLE_ID,),
            cooldown_seconds=0,
            **{"triage_channel": TRIAGE_ID, **over},
        ),
    )


@contextlib.asynccontextmanager
async def _bot(fake, tmp_path, engine, store, health, **over):
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_discord(_config(fake, tmp_path, **over), engine, store, health, stop, guild_ready_timeout=0.05)
    )
    try:
        await _until(lambda: health.snapshot()["platforms"].get("discord", {}).get("connected", False))
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _sent_to(fake: FakeDiscord, channel_id: int) -> list[Write]:
    return [w for w in fake.posts() if w.method == "POST" and w.path == f"/channels/{channel_id}/messages"]


def _triage_messages(fake: FakeDiscord) -> list[dict]:
    return sorted(
        (m for m in fake.messages.values() if m["channel_id"] == str(TRIAGE_ID)), key=lambda m: int(m["id"])
    )


def _callbacks(fake: FakeDiscord, interaction: dict) -> list[Write]:
    return [w for w in fake.writes if w.path.startswith(f"/interactions/{interaction['id']}/")]


async def _post_unsure(fake: FakeDiscord, text: str = UNSURE, author=ALICE) -> tuple[dict, dict]:
    question = fake.message(WATCHED_ID, author, text)
    before = len(_triage_messages(fake))
    await fake.dispatch("MESSAGE_CREATE", question)
    await _until(lambda: len(_triage_messages(fake)) > before)
    return question, copy.deepcopy(_triage_messages(fake)[-1])  # as first shown


async def test_unsure_post_send_answer_exactly_once_and_label(tmp_path, engine, store, health):
    assert engine.kb.match(UNSURE).band == "unsure", "the fixture post must sit in the abstain band"
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health):
        question, item = await _post_unsure(fake)
        # nothing was posted in the watched channel: unsure posts stay silent
        assert _sent_to(fake, WATCHED_ID) == []
        # a look-alike (off topic, far below the band) is not shown to moderators
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, BOB, LOOK_ALIKE))
        await asyncio.sleep(0.2)
        assert len(_triage_messages(fake)) == 1

        embed = item["embeds"][0]
        assert embed["title"] == "Unsure post #1"
        assert embed["url"] == f"https://discord.com/channels/{question['guild_id']}/{WATCHED_ID}/{question['id']}"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Candidate entry"].startswith(f"`{engine.kb.match(UNSURE).candidate}`")
        assert fields["Probability"].startswith(f"{engine.kb.match(UNSURE).score:.2f}")
        assert fields["Top reasons"].count("- feature") >= 1
        assert UNSURE in embed["description"]
        buttons = [c for row in item["components"] for c in row["components"]]
        assert [b["label"] for b in buttons] == ["Send answer", "Other answer…", "Not this"]
        assert {b["custom_id"] for b in buttons} == {
            custom_id(a, question["id"]) for a in ("send", "other", "no")
        }

        # a member without the moderator role is refused, ephemerally, and nothing happens
        press = fake.component_interaction(int(item["id"]), custom_id("send", question["id"]), BOB)
        await fake.dispatch("INTERACTION_CREATE", press)
        await _until(lambda: _callbacks(fake, press))
        (refusal,) = _callbacks(fake, press)
        assert refusal.body["type"] == 4 and refusal.body["data"]["flags"] & 64
        assert "Only moderators" in refusal.body["data"]["content"]

        # two moderators press Send answer at once: exactly one reply to the post
        first = fake.component_interaction(int(item["id"]), custom_id("send", question["id"]), MOD, roles=(MOD_ROLE_ID,))
        second = fake.component_interaction(
            int(item["id"]), custom_id("send", question["id"]), MOD2, roles=(MOD_ROLE_ID,)
        )
        await fake.dispatch("INTERACTION_CREATE", first)
        await fake.dispatch("INTERACTION_CREATE", second)
        await _until(lambda: _callbacks(fake, first) and _callbacks(fake, second))
        await _until(lambda: len(_sent_to(fake, WATCHED_ID)) >= 1)
        await _until(lambda: any(f["name"] == "Decision" for f in fake.messages[int(item["id"])]["embeds"][0]["fields"]))
        await asyncio.sleep(0.2)
        (reply,) = _sent_to(fake, WATCHED_ID)
        assert int(reply.body["message_reference"]["message_id"]) == int(question["id"])
        assert "ZOS" in reply.body["content"] or "Zero OS" in reply.body["content"]
        kinds = sorted(w.body["type"] for w in (*_callbacks(fake, first), *_callbacks(fake, second)))
        assert kinds == [4, 6], "one deferred update for the winner, one ephemeral 'already decided'"

        # the embed says who decided what, and has no buttons any more
        edited = fake.messages[int(item["id"])]
        decision = next(f["value"] for f in edited["embeds"][0]["fields"] if f["name"] == "Decision")
        assert decision.startswith("Sent `vm-farming`") and ("<@" in decision)
        assert edited["components"] == []
        assert fake.refused == []

    (label,) = store.labels()
    assert (label.decision, label.label, label.entry, label.author_id) == ("send", "vm_farming", "vm-farming", ALICE["id"])
    assert label.decided_by in (MOD["id"], MOD2["id"])
    assert store.claim_state("discord", f"msg:{question['id']}") == "posted"


async def test_other_answer_select_and_not_this(tmp_path, engine, store, health):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health):
        question, item = await _post_unsure(fake)
        press = fake.component_interaction(int(item["id"]), custom_id("other", question["id"]), MOD, roles=(MOD_ROLE_ID,))
        await fake.dispatch("INTERACTION_CREATE", press)
        await _until(lambda: _callbacks(fake, press))
        (menu,) = _callbacks(fake, press)
        assert menu.body["type"] == 4 and menu.body["data"]["flags"] & 64
        select = menu.body["data"]["components"][0]["components"][0]
        assert select["type"] == 3 and select["custom_id"] == custom_id("pick", question["id"])
        values = [o["value"] for o in select["options"]]
        assert "rented-servers" in values and len(values) <= 25
        picked_msg = next(m for m in fake.messages.values() if m.get("components") and m["components"][0]["components"][0].get("type") == 3)
        pick = fake.component_interaction(
            int(picked_msg["id"]), select["custom_id"], MOD, roles=(MOD_ROLE_ID,), values=["rented-servers"]
        )
        await fake.dispatch("INTERACTION_CREATE", pick)
        await _until(lambda: len(_sent_to(fake, WATCHED_ID)) == 1)
        await _until(lambda: fake.messages[int(item["id"])]["components"] == [])

        # Not this on a second unsure post: no reply, a negative label
        other_q, other_item = await _post_unsure(fake, UNSURE + " pls", author=BOB)
        no = fake.component_interaction(int(other_item["id"]), custom_id("no", other_q["id"]), MOD, roles=(MOD_ROLE_ID,))
        await fake.dispatch("INTERACTION_CREATE", no)
        await _until(lambda: fake.messages[int(other_item["id"])]["components"] == [])
        await asyncio.sleep(0.1)
        assert len(_sent_to(fake, WATCHED_ID)) == 1
        assert fake.refused == []
    got = {(lab.item_id, lab.decision, lab.label, lab.entry) for lab in store.labels()}
    assert got == {
        (question["id"], "other", "vm_farming", "rented-servers"),
        (other_q["id"], "not_this", "other", None),
    }


async def test_buttons_keep_working_after_a_restart(tmp_path, engine, store, health):
    async with running_fake() as fake:
        async with _bot(fake, tmp_path, engine, store, health):
            question, item = await _post_unsure(fake)
        # a new process (same state file): the old embed's button still works
        async with _bot(fake, tmp_path, engine, store, health):
            press = fake.component_interaction(int(item["id"]), custom_id("send", question["id"]), MOD, roles=(MOD_ROLE_ID,))
            await fake.dispatch("INTERACTION_CREATE", press)
            await _until(lambda: len(_sent_to(fake, WATCHED_ID)) == 1)
            # pressing again (a stale client) does nothing but say so
            await _until(lambda: fake.messages[int(item["id"])]["components"] == [])
            fake.messages[int(item["id"])]["components"] = item["components"]  # a stale client still shows buttons
            again = fake.component_interaction(int(item["id"]), custom_id("send", question["id"]), MOD, roles=(MOD_ROLE_ID,))
            await fake.dispatch("INTERACTION_CREATE", again)
            await _until(lambda: _callbacks(fake, again))
            assert "already decided" in _callbacks(fake, again)[0].body["data"]["content"]
            await asyncio.sleep(0.1)
            assert len(_sent_to(fake, WATCHED_ID)) == 1
    assert [lab.decision for lab in store.labels()] == ["send"]


async def test_auto_replies_are_shown_until_triage_all_until_and_not_this_removes_them(
    tmp_path, engine, store, health
):
    until = datetime.now(UTC) + timedelta(days=7)
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health, triage_all_until=until):
        question = fake.message(WATCHED_ID, ALICE, QUESTION)
        await fake.dispatch("MESSAGE_CREATE", question)
        await _until(lambda: len(_triage_messages(fake)) == 1)
        (reply,) = _sent_to(fake, WATCHED_ID)
        item = _triage_messages(fake)[0]
        assert item["embeds"][0]["title"] == "Auto-reply #1"
        assert [c["label"] for c in item["components"][0]["components"]] == ["Right answer", "Not this"]
        no = fake.component_interaction(int(item["id"]), custom_id("no", question["id"]), MOD, roles=(MOD_ROLE_ID,))
        await fake.dispatch("INTERACTION_CREATE", no)
        await _until(lambda: any(w.method == "DELETE" for w in fake.writes))
        reply_msg = next(m for m in fake.messages.values() if m["content"] == reply.body["content"])
        assert any(w.method == "DELETE" and w.path.endswith(f"/messages/{reply_msg['id']}") for w in fake.writes)
    (label,) = store.labels()
    assert (label.decision, label.label) == ("removed", "other")


async def test_no_triage_channel_no_triage(tmp_path, engine, store, health):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health, triage_channel=None):
        await fake.dispatch("MESSAGE_CREATE", fake.message(WATCHED_ID, ALICE, UNSURE))
        await asyncio.sleep(0.3)
        assert _triage_messages(fake) == [] and fake.posts() == []


# -- removals and explicit calls as labels (no triage channel needed) -----------------------------


async def test_a_removed_auto_reply_and_an_explained_silent_post_are_labels(tmp_path, engine, store, health):
    async with running_fake() as fake, _bot(fake, tmp_path, engine, store, health, triage_channel=None):
        question = fake.message(WATCHED_ID, ALICE, QUESTION + " my ip is 10.1.2.3")
        await fake.dispatch("MESSAGE_CREATE", question)
        await _until(lambda: len(_sent_to(fake, WATCHED_ID)) == 1)
        reply = next(m for m in fake.messages.values() if m.get("message_reference"))
        # the asker reacts 🗑 on the auto-reply: it goes, and a negative label stays
        await fake.dispatch(
            "MESSAGE_REACTION_ADD",
            {
                "user_id": ALICE["id"],
                "channel_id": str(WATCHED_ID),
                "message_id": reply["id"],
                "guild_id": question["guild_id"],
                "member": {**question["member"], "user": ALICE},
                "emoji": {"id": None, "name": "🗑️"},
                "burst": False,
                "type": 0,
            },
        )
        await _until(lambda: any(w.method == "DELETE" for w in fake.writes))

        # a moderator uses "Explain bare metal" on a post the bot stayed silent on: a positive label
        silent = fake.message(WATCHED_ID, BOB, UNSURE)
        await fake.dispatch("MESSAGE_CREATE", silent)
        await asyncio.sleep(0.2)
        assert len(_sent_to(fake, WATCHED_ID)) == 1
        call = fake.interaction(
            "Explain bare metal",
            MOD,
            roles=(MOD_ROLE_ID,),
            command_type=3,
            target_id=int(silent["id"]),
            resolved={"messages": {silent["id"]: silent}},
        )
        await fake.dispatch("INTERACTION_CREATE", call)
        await _until(lambda: len(_sent_to(fake, WATCHED_ID)) == 2)
        await _until(lambda: len(store.labels()) == 2)
        assert fake.refused == []
    removed, called = store.labels()
    assert (removed.item_id, removed.decision, removed.label, removed.decided_by) == (
        question["id"], "removed", "other", ALICE["id"]
    )
    assert "Proxmox" in removed.text and "10.1.2.3" not in removed.text
    assert (called.item_id, called.decision, called.label, called.entry) == (
        silent["id"], "called", "vm_farming", "vm-farming"
    )
