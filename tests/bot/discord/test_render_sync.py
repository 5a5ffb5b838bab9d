"""Embeds, message splitting and the command-sync hash."""

from __future__ import annotations

from unittest import mock

import discord
import pytest
from discord import app_commands
from hypothesis import given
from hypothesis import strategies as st

from bot.config import DiscordConfig
from bot.discord.cogs.appcommands import AppCommandsCog
from bot.discord.context import Deps
from bot.discord.render import MESSAGE_LIMIT, split_text, verdict_embed
from bot.discord.sync import HASH_KEY, command_hash, sync_if_changed
from detector.model import Evidence, Verdict
from tests.bot.discord import helpers as h


@given(st.text(min_size=0, max_size=9000))
def test_split_text_keeps_every_chunk_under_the_limit(text):
    chunks = split_text(text)
    assert all(0 < len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "".join(chunks).replace("```", "").split() == text.strip().split() or "```" in text


def test_split_text_reopens_a_cut_code_fence():
    text = "intro\n```text\n" + "\n".join(f"line {i} " + "x" * 60 for i in range(60)) + "\n```\nend"
    chunks = split_text(text)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert chunk.count("```") % 2 == 0, chunk[:80]
    assert chunks[1].startswith("```text")


def test_verdict_embed_colour_fields_and_limits():
    evidence = tuple(
        Evidence("dmidecode", i, "Manufacturer: QEMU " + "x" * 300, "dmi-qemu", "virtual:qemu", 0.9)
        for i in range(8)
    )
    v = Verdict(
        "virtual",
        hypervisor="qemu",
        confidence=0.95,
        zos_flags_virtual=True,
        evidence=evidence,
        missing=("lscpu",),
    )
    embed = verdict_embed(v)
    assert embed.colour == discord.Colour.red()
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Evidence"].count("`dmidecode:") == 5
    assert len(fields["Evidence"]) <= 1024
    assert "lscpu" in fields["Next steps"]
    assert "qemu" in embed.description and "flag" in embed.description
    assert verdict_embed(Verdict("bare-metal", vendor="dell")).colour == discord.Colour.green()


@pytest.fixture
def tree(engine, store, health):
    bot = h.mock_bot()
    real_tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    cog = AppCommandsCog(bot, Deps(DiscordConfig(token="t"), engine, store, health))
    for cmd in (cog.baremetal, cog.analyze, cog.explain_menu, cog.analyze_menu):
        real_tree.add_command(cmd)
    return real_tree


def test_command_set_is_exactly_the_documented_one(tree):
    got = {(d["name"], d["type"]) for d in (c.to_dict(tree) for c in tree.get_commands())}
    assert got == {("baremetal", 1), ("analyze", 1), ("Explain bare metal", 3), ("Analyze dump", 3)}
    options = {
        c.name: {p.name: p.type for p in c.parameters}
        for c in tree.get_commands(type=discord.AppCommandType.chat_input)
    }
    assert options == {
        "baremetal": {
            "topic": discord.AppCommandOptionType.string,
            "user": discord.AppCommandOptionType.user,
        },
        "analyze": {
            "file": discord.AppCommandOptionType.attachment,
            "text": discord.AppCommandOptionType.string,
        },
    }
    assert all(
        not p.required
        for c in tree.get_commands(type=discord.AppCommandType.chat_input)
        for p in c.parameters
    )


async def test_sync_only_when_the_hash_changed(tree, store):
    with mock.patch.object(tree, "sync", mock.AsyncMock(return_value=[])) as sync:
        assert await sync_if_changed(tree, store, 1) is True
        assert await sync_if_changed(tree, store, 1) is False
        assert sync.await_count == 1
        assert store.kv_get(HASH_KEY) == command_hash(tree, 1)
        assert await sync_if_changed(tree, store, 2) is True  # another application
        assert sync.await_count == 2
