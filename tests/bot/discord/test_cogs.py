"""Unit tests of the cogs with typed spec_set fakes (no network), a real engine and a real Store."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import discord
import pytest

from bot.config import DiscordConfig
from bot.discord.cogs.appcommands import MODERATORS_ONLY, NOTHING_TO_ANALYZE, AppCommandsCog
from bot.discord.cogs.autoreply import JUST_ABOVE, AutoReplyCog
from bot.discord.cogs.direct import OPTED_OUT_TEXT, DirectMessagesCog
from bot.discord.context import REPLY_ASKER_KEY, AskerLimit, Deps, RecentAnswers
from tests.bot.discord import helpers as h
from tests.bot.discord.conftest import LOOK_ALIKE, QEMU_DMIDECODE, QUESTION

WATCHED = 111
FORUM = 222
MOD_ROLE = 333
HELPER_ROLE = 444
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _http_error(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    response = mock.Mock(status=status, reason="refused")
    return cls(response, {"message": "refused", "code": 50013})


@pytest.fixture
def deps(engine, store, health) -> Deps:
    cfg = DiscordConfig(
        token="t",
        watch_channels=(WATCHED, FORUM),
        moderator_roles=(MOD_ROLE,),
        helper_roles=(HELPER_ROLE,),
        cooldown_seconds=60,
        max_attachment_bytes=64 * 1024,
    )
    return Deps(cfg=cfg, engine=engine, store=store, health=health)


@pytest.fixture
def bot():
    return h.mock_bot()


@pytest.fixture
def auto(bot, deps) -> AutoReplyCog:
    return AutoReplyCog(bot, deps)


def _sent_kwargs(channel) -> list[dict]:
    return [c.kwargs for c in channel.send.await_args_list]


# -- auto-replies -----------------------------------------------------------------------------


async def test_question_in_watched_channel_gets_one_reply_without_pings(auto):
    channel = h.mock_text_channel(WATCHED)
    msg = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    await auto.on_message(msg)
    await auto.on_message(msg)  # the same event again (gateway replay)
    assert channel.send.await_count == 1
    kwargs = channel.send.await_args.kwargs
    am = kwargs["allowed_mentions"]
    assert (am.everyone, am.users, am.roles, am.replied_user) == (False, False, False, False)
    assert kwargs["mention_author"] is False
    assert kwargs["reference"].message_id == msg.id
    reply = channel.send.await_args.args[0]
    assert "🗑" in reply and len(reply) <= 2000


@pytest.mark.parametrize(
    ("author", "channel_id", "text"),
    [
        (h.mock_member(bot=True), WATCHED, QUESTION),  # another bot
        (h.mock_member(user_id=555), WATCHED, QUESTION),  # itself
        (h.mock_member(), 999, QUESTION),  # unwatched channel
        (h.mock_member(), WATCHED, LOOK_ALIKE),  # a look-alike
        (h.mock_member(roles=[HELPER_ROLE]), WATCHED, QUESTION),  # staff are skipped by default
        (h.mock_member(manage_messages=True), WATCHED, QUESTION),
    ],
)
async def test_no_reply(auto, author, channel_id, text):
    channel = h.mock_text_channel(channel_id)
    await auto.on_message(h.mock_message(channel=channel, author=author, content=text))
    channel.send.assert_not_awaited()


RENTED = "Can I farm on a rented dedicated server from Hetzner?"  # another entry than QUESTION


async def test_same_entry_within_the_cooldown_gets_a_jump_link_to_the_answer_above(auto, deps):
    channel = h.mock_text_channel(WATCHED)
    first = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    second = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    await auto.on_message(first)
    await auto.on_message(second)
    assert channel.send.await_count == 2, "the second asker is answered too"
    full, link = (c.args[0] for c in channel.send.await_args_list)
    assert len(link) < 200 and link.startswith(JUST_ABOVE.split("{")[0])
    assert f"https://discord.com/channels/{h.GUILD_ID}/{WATCHED}/" in link
    assert len(full) > len(link) * 3
    assert channel.send.await_args.kwargs["reference"].message_id == second.id
    decisions = deps.store.decisions_since(EPOCH)
    assert [d.posted for d in decisions] == [True, True]
    assert "same entry just above" in decisions[-1].reason


async def test_the_jump_link_points_at_the_full_answer(auto):
    channel = h.mock_text_channel(WATCHED)
    answers = []

    def send(*args, **kwargs):
        answers.append(h.mock_message(channel=channel, author=h.mock_user(bot=True)))
        return answers[-1]

    channel.send.side_effect = send
    for _ in range(3):
        await auto.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION))
    links = [c.args[0] for c in channel.send.await_args_list[1:]]
    assert links == [JUST_ABOVE.format(url=answers[0].jump_url)] * 2


async def test_a_different_entry_within_the_cooldown_is_answered_in_full(auto):
    channel = h.mock_text_channel(WATCHED)
    await auto.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION))
    await auto.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=RENTED))
    assert channel.send.await_count == 2
    first, second = (c.args[0] for c in channel.send.await_args_list)
    assert "just above" not in second and second != first and len(second) > 300


async def test_after_the_cooldown_the_same_entry_is_answered_in_full_again(bot, deps):
    now = [0.0]
    cog = AutoReplyCog(bot, deps, recent=RecentAnswers(60, clock=lambda: now[0]))
    channel = h.mock_text_channel(WATCHED)
    await cog.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION))
    now[0] = 61
    await cog.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION))
    first, second = (c.args[0] for c in channel.send.await_args_list)
    assert second == first


async def test_flood_protection_is_per_asker_never_per_channel(auto, deps):
    channel = h.mock_text_channel(WATCHED)
    flooder, other = h.mock_member(), h.mock_member()
    for text in (QUESTION, RENTED, QUESTION, RENTED):  # four questions in a row from one member
        await auto.on_message(h.mock_message(channel=channel, author=flooder, content=text))
    assert channel.send.await_count == deps.cfg.asker_max_replies == 3
    await auto.on_message(h.mock_message(channel=channel, author=other, content=RENTED))
    assert channel.send.await_count == 4, "another member is still answered"
    held = [d for d in deps.store.decisions_since(EPOCH) if not d.posted]
    assert len(held) == 1 and held[0].reason.startswith("flood: asker had 3 auto-replies in 300 s")


async def test_forum_starter_message_is_answered_in_its_thread(auto):
    thread_id = h.next_id()
    thread = h.mock_thread(thread_id, FORUM)
    later = h.mock_message(channel=thread, author=h.mock_member(), content=QUESTION)
    await auto.on_message(later)  # not the starter: ignored
    thread.send.assert_not_awaited()
    starter = h.mock_message(channel=thread, author=h.mock_member(), content=QUESTION, message_id=thread_id)
    await auto.on_message(starter)
    assert thread.send.await_count == 1


async def test_no_reply_when_a_helper_already_answered(auto):
    asker = h.mock_member()
    helper_said = h.mock_message(channel=h.mock_text_channel(), author=h.mock_member(roles=[HELPER_ROLE]))
    channel = h.mock_text_channel(WATCHED, later=[helper_said])
    await auto.on_message(h.mock_message(channel=channel, author=asker, content=QUESTION))
    channel.send.assert_not_awaited()


async def test_failed_send_releases_the_claim_and_does_not_raise(auto, deps):
    channel = h.mock_text_channel(WATCHED)
    channel.send.side_effect = _http_error(discord.Forbidden, 403)
    msg = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    await auto.on_message(msg)
    assert deps.store.claim_state("discord", f"msg:{msg.id}") is None
    assert auto.flood.allows(msg.author.id) and auto.flood._recent(msg.author.id) == []
    assert auto.recent.same(WATCHED, "vm-farming") is None, "nothing was posted to link to"


async def test_opted_out_member_gets_no_auto_reply(auto, deps):
    member = h.mock_member()
    deps.store.set_opt_out("discord", str(member.id), True)
    channel = h.mock_text_channel(WATCHED)
    await auto.on_message(h.mock_message(channel=channel, author=member, content=QUESTION))
    channel.send.assert_not_awaited()


async def test_shadow_mode_records_but_posts_nothing(bot, deps):
    cog = AutoReplyCog(bot, Deps(deps.cfg, deps.engine, deps.store, deps.health, shadow=True))
    channel = h.mock_text_channel(WATCHED)
    await cog.on_message(h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION))
    channel.send.assert_not_awaited()
    (record,) = deps.store.decisions_since(EPOCH)
    assert record.mode == "shadow" and not record.posted and record.action == "answer"


@pytest.mark.parametrize(("who", "deleted"), [("asker", True), ("moderator", True), ("stranger", False)])
async def test_trash_reaction_removes_an_auto_reply(bot, auto, deps, who, deleted):
    asker, reply_id, channel_id = h.next_id(), h.next_id(), WATCHED
    deps.store.kv_set(REPLY_ASKER_KEY.format(message_id=reply_id), str(asker))
    member = {
        "asker": h.mock_member(user_id=asker),
        "moderator": h.mock_member(roles=[MOD_ROLE]),
        "stranger": h.mock_member(),
    }[who]
    payload = mock.NonCallableMagicMock(spec_set=discord.RawReactionActionEvent)
    payload.emoji = discord.PartialEmoji(name="🗑️")
    payload.guild_id, payload.user_id, payload.member = h.GUILD_ID, member.id, member
    payload.message_id, payload.channel_id = reply_id, channel_id
    partial = h.mock_partial_message(bot)
    await auto.on_raw_reaction_add(payload)
    assert partial.delete.await_count == (1 if deleted else 0)


def test_asker_limit_is_a_sliding_window_on_its_clock():
    now = [0.0]
    limit = AskerLimit(2, 300, clock=lambda: now[0])
    limit.take(1)
    now[0] = 100
    stamp = limit.take(1)
    assert not limit.allows(1) and limit.allows(2)
    limit.give_back(1, stamp)
    assert limit.allows(1)
    limit.take(1)
    now[0] = 300  # the first one left the window
    assert limit.allows(1)
    assert AskerLimit(0, 300).allows(1), "0: no limit"


def test_recent_answers_keep_the_entry_per_slot_for_the_cooldown():
    now = [0.0]
    recent = RecentAnswers(60, clock=lambda: now[0])
    recent.remember(1, "vm-farming", "https://discord.com/channels/1/1/5")
    assert recent.same(1, "vm-farming").jump_url.endswith("/5")
    assert recent.same(1, "containers") is None and recent.same(2, "vm-farming") is None
    now[0] = 60
    assert recent.same(1, "vm-farming") is None


# -- DMs ------------------------------------------------------------------------------------------


@pytest.fixture
def dms(bot, deps) -> DirectMessagesCog:
    return DirectMessagesCog(bot, deps)


async def test_dm_with_attached_dump_gets_a_verdict_embed(dms, deps):
    channel = h.mock_dm_channel()
    att = h.mock_attachment("dmidecode.txt", QEMU_DMIDECODE.encode())
    await dms.on_message(h.mock_message(channel=channel, author=h.mock_user(), attachments=[att]))
    embed: discord.Embed = channel.send.await_args.kwargs["embed"]
    assert embed.title == "Verdict: Virtual machine"
    assert embed.colour == discord.Colour.red()
    assert "4c4c4544-0042-3510" not in str(embed.to_dict())
    (record,) = deps.store.decisions_since(EPOCH)
    assert record.verdict == "virtual" and record.where == "dm"


@pytest.mark.parametrize(
    ("att", "problem"),
    [
        (h.mock_attachment("photo.png", b"\x89PNG"), ".txt or .log"),
        (h.mock_attachment("dump.txt", b"\x00\x01\x02binary\x00" * 50), "dump.txt"),
    ],
)
async def test_dm_with_unreadable_attachment_gets_a_clear_line(dms, att, problem):
    channel = h.mock_dm_channel()
    await dms.on_message(h.mock_message(channel=channel, author=h.mock_user(), attachments=[att]))
    first = channel.send.await_args_list[0].args[0]
    assert "could not read" in first and problem in first


@pytest.mark.parametrize("name", ["big.log", "dmidecode.txt", "lscpu"])
async def test_dm_with_an_oversized_text_file_gets_one_line_with_the_limit_and_how_to_trim(dms, deps, name):
    channel = h.mock_dm_channel()
    att = h.mock_attachment(name, b"x", size=10 * 1024 * 1024)
    await dms.on_message(h.mock_message(channel=channel, author=h.mock_user(), attachments=[att]))
    channel.send.assert_awaited_once()
    (line,) = channel.send.await_args.args[0].splitlines()
    assert f"`{name}` is 10 MiB" in line and "64 KiB limit" in line
    assert "`sudo dmidecode -t system`" in line and "`lscpu`" in line
    assert "embed" not in channel.send.await_args.kwargs
    att.read.assert_not_awaited()  # the size check comes before any download


async def test_dm_with_an_oversized_file_and_a_question_gets_the_line_and_the_answer(dms):
    channel = h.mock_dm_channel()
    att = h.mock_attachment("big.log", b"x", size=10 * 1024 * 1024)
    await dms.on_message(
        h.mock_message(channel=channel, author=h.mock_user(), content=QUESTION, attachments=[att])
    )
    text = "\n".join(c.args[0] for c in channel.send.await_args_list)
    assert "`sudo dmidecode -t system`" in text and ("Zero OS" in text or "ZOS" in text)
    att.read.assert_not_awaited()


async def test_dm_question_gets_an_answer_and_stop_opts_out(dms, deps):
    channel = h.mock_dm_channel()
    user = h.mock_user()
    await dms.on_message(h.mock_message(channel=channel, author=user, content=QUESTION))
    assert "Zero OS" in channel.send.await_args.args[0] or "ZOS" in channel.send.await_args.args[0]
    await dms.on_message(h.mock_message(channel=channel, author=user, content="Stop"))
    assert channel.send.await_args.args[0] == OPTED_OUT_TEXT
    assert deps.store.is_opted_out("discord", str(user.id))


async def test_closed_dms_do_not_crash(dms):
    channel = h.mock_dm_channel()
    channel.send.side_effect = _http_error(discord.Forbidden, 403)
    await dms.on_message(h.mock_message(channel=channel, author=h.mock_user(), content=QUESTION))
    channel.send.assert_awaited()


# -- commands and context menus -------------------------------------------------------------------


@pytest.fixture
def cmds(bot, deps) -> AppCommandsCog:
    return AppCommandsCog(bot, deps)


async def test_baremetal_is_ephemeral_for_members_and_public_for_moderators(cmds, bot):
    target = h.mock_user()
    member_call = h.mock_interaction(user=h.mock_member(), bot=bot)
    await cmds.baremetal.callback(cmds, member_call, topic="vm-farming", user=target)
    kwargs = member_call.response.send_message.await_args.kwargs
    assert kwargs["ephemeral"] is True

    mod_call = h.mock_interaction(user=h.mock_member(roles=[MOD_ROLE]), bot=bot)
    await cmds.baremetal.callback(cmds, mod_call, topic="vm-farming", user=target)
    args, kwargs = mod_call.response.send_message.await_args
    assert kwargs["ephemeral"] is False
    assert args[0].startswith(target.mention)
    assert kwargs["allowed_mentions"].to_dict()["parse"] == []


async def test_baremetal_autocomplete_offers_entry_titles(cmds, bot, kb):
    choices = await cmds.topic_autocomplete(h.mock_interaction(user=h.mock_member(), bot=bot), "rent")
    assert choices and all(kb.get(c.value) is not None for c in choices)
    assert "rented-servers" in [c.value for c in choices]


async def test_analyze_defers_ephemeral_then_edits_the_deferred_response(cmds, bot):
    inter = h.mock_interaction(user=h.mock_member(), bot=bot)
    await cmds.analyze.callback(cmds, inter, file=None, text=" ".join(QEMU_DMIDECODE.split()))
    inter.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    inter.edit_original_response.assert_awaited_once()
    inter.followup.send.assert_not_awaited()  # a first follow-up would edit the loading message (deprecated)
    assert inter.edit_original_response.await_args.kwargs["embed"].title.startswith("Verdict:")


async def test_analyze_with_nothing_says_what_to_send(cmds, bot):
    inter = h.mock_interaction(user=h.mock_member(), bot=bot)
    await cmds.analyze.callback(cmds, inter, file=None, text=None)
    assert NOTHING_TO_ANALYZE in inter.edit_original_response.await_args.kwargs["content"]


async def test_explain_context_menu_is_for_moderators_only(cmds, bot):
    channel = h.mock_text_channel()
    target = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    inter = h.mock_interaction(user=h.mock_member(), bot=bot)
    await cmds.explain_message(inter, target)
    inter.response.send_message.assert_awaited_once_with(MODERATORS_ONLY, ephemeral=True)
    channel.send.assert_not_awaited()

    mod = h.mock_interaction(user=h.mock_member(), bot=bot, manage_messages=True)
    await cmds.explain_message(mod, target)
    mod.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert channel.send.await_args.kwargs["reference"].message_id == target.id
    assert "Posted" in mod.edit_original_response.await_args.kwargs["content"]


async def test_analyze_context_menu_reads_the_message(cmds, bot):
    target = h.mock_message(
        channel=h.mock_text_channel(),
        author=h.mock_member(),
        attachments=[h.mock_attachment("lscpu", QEMU_DMIDECODE.encode())],
    )
    inter = h.mock_interaction(user=h.mock_member(), bot=bot)
    await cmds.analyze_message(inter, target)
    assert inter.edit_original_response.await_args.kwargs["embed"].title == "Verdict: Virtual machine"


async def test_context_menus_are_added_in_cog_load(cmds, bot):
    await cmds.cog_load()
    added = [c.args[0].name for c in bot.tree.add_command.call_args_list]
    assert added == ["Explain bare metal", "Analyze dump"]


# -- error boundary ---------------------------------------------------------------------------------


async def test_command_errors_reach_the_user_as_one_line_without_a_traceback(deps):
    from discord import app_commands

    from bot.discord.client import USER_ERROR_TEXT, FarmhandBot

    bot = FarmhandBot(deps)
    inter = h.mock_interaction(user=h.mock_member(), bot=h.mock_bot())
    inter.command = None
    await bot.on_app_command_error(inter, app_commands.AppCommandError("boom: secret detail"))
    inter.response.send_message.assert_awaited_once_with(
        USER_ERROR_TEXT, ephemeral=True, allowed_mentions=mock.ANY
    )
    inter.response.is_done.return_value = True
    await bot.on_app_command_error(inter, app_commands.AppCommandError("again"))
    assert inter.followup.send.await_args.args[0] == USER_ERROR_TEXT
    assert bot.allowed_mentions.to_dict() == {"parse": []}
    assert bot.intents.message_content
    await bot.close()


async def test_cooldown_counts_each_forum_post_on_its_own(auto):
    # Two new posts in one watched forum within the cooldown: both are answered.
    threads = []
    for _ in range(2):
        thread_id = h.next_id()
        thread = h.mock_thread(thread_id, FORUM)
        threads.append(thread)
        starter = h.mock_message(
            channel=thread, author=h.mock_member(), content=QUESTION, message_id=thread_id
        )
        await auto.on_message(starter)
    assert [t.send.await_count for t in threads] == [1, 1]
