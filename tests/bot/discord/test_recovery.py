"""Start-up recovery of claims a crash left pending, with typed spec_set fakes and a real Store."""

from __future__ import annotations

import time
from unittest import mock

import discord
import pytest

import bot.state as state_mod
from bot.config import DiscordConfig
from bot.discord.client import FarmhandBot
from bot.discord.cogs.autoreply import AutoReplyCog
from bot.discord.cogs.direct import DirectMessagesCog
from bot.discord.context import Deps
from bot.discord.recovery import (
    HISTORY_AFTER_LIMIT,
    RECOVERY_WINDOW_SECONDS,
    ClaimRecovery,
    RecoveryReport,
)
from tests.bot.discord import helpers as h
from tests.bot.discord.conftest import QEMU_DMIDECODE, QUESTION

WATCHED = 111
FORUM = 222
HELPER_ROLE = 444


def _http_error(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    response = mock.Mock(status=status, reason="refused")
    return cls(response, {"message": "refused", "code": 0})


@pytest.fixture
def deps(engine, store, health) -> Deps:
    cfg = DiscordConfig(
        token="t", watch_channels=(WATCHED, FORUM), helper_roles=(HELPER_ROLE,), cooldown_seconds=60
    )
    return Deps(cfg=cfg, engine=engine, store=store, health=health)


@pytest.fixture
def bot():
    b = h.mock_bot()
    b.get_channel.return_value = None
    return b


@pytest.fixture
def recovery(bot, deps) -> ClaimRecovery:
    # Every claim a test makes before calling run() belongs to "an earlier process".
    return ClaimRecovery(
        bot,
        deps,
        AutoReplyCog(bot, deps),
        DirectMessagesCog(bot, deps),
        started_at=time.time() + 60,
        spacing=0,
    )


def _pending(store, message, channel_id=None) -> str:
    key = f"msg:{message.id}"
    assert store.claim("discord", key, where=str(channel_id or message.channel.id))
    return key


def _bot_reply(bot, channel, to: int | None) -> discord.Message:
    ref = None if to is None else discord.MessageReference(message_id=to, channel_id=channel.id)
    return h.mock_message(channel=channel, author=bot.user, content="earlier answer", reference=ref)


async def test_unanswered_question_is_answered_once_without_a_new_claim(bot, recovery, store):
    channel = h.mock_text_channel(WATCHED)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    channel.fetch_message.return_value = question
    bot.get_channel.return_value = channel
    key = _pending(store, question)

    report = await recovery.run()

    assert report == RecoveryReport(resumed=1)
    assert channel.send.await_count == 1
    kwargs = channel.send.await_args.kwargs
    assert kwargs["reference"].message_id == question.id
    am = kwargs["allowed_mentions"]
    assert (am.everyone, am.users, am.roles, am.replied_user) == (False, False, False, False)
    assert store.claim_state("discord", key) == "posted"
    call = channel.history.calls[0]  # the search for an earlier reply (then the helper check)
    assert call["after"].id == question.id and call["limit"] == HISTORY_AFTER_LIMIT
    # A second start finds nothing left to do.
    assert await recovery.run() == RecoveryReport()
    assert channel.send.await_count == 1


async def test_reply_already_in_the_channel_is_marked_posted_not_sent_again(bot, recovery, store):
    later: list[discord.Message] = []
    channel = h.mock_text_channel(WATCHED, later=later)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    other = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    later += [
        _bot_reply(bot, channel, to=other.id),  # the bot answering someone else does not count
        h.mock_message(channel=channel, author=h.mock_member(), content="thanks"),
        _bot_reply(bot, channel, to=question.id),
    ]
    bot.get_channel.return_value = channel
    key = _pending(store, question)

    assert await recovery.run() == RecoveryReport(found=1)
    channel.send.assert_not_awaited()
    channel.fetch_message.assert_not_awaited()
    assert store.claim_state("discord", key) == "posted"


async def test_bot_message_replying_to_another_question_does_not_count(bot, recovery, store):
    later: list[discord.Message] = []
    channel = h.mock_text_channel(WATCHED, later=later)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    later.append(_bot_reply(bot, channel, to=h.next_id()))
    later.append(_bot_reply(bot, channel, to=None))
    channel.fetch_message.return_value = question
    bot.get_channel.return_value = channel
    _pending(store, question)

    assert await recovery.run() == RecoveryReport(resumed=1)
    assert channel.send.await_count == 1


async def test_forum_thread_first_bot_message_counts_as_the_reply(bot, recovery, store):
    later: list[discord.Message] = []
    thread_id = h.next_id()
    thread = h.mock_thread(thread_id, FORUM, later=later)
    starter = h.mock_message(channel=thread, author=h.mock_member(), content=QUESTION, message_id=thread_id)
    later.append(_bot_reply(bot, thread, to=None))
    bot.fetch_channel.return_value = thread  # threads are often not cached after a restart
    key = _pending(store, starter)

    assert await recovery.run() == RecoveryReport(found=1)
    bot.fetch_channel.assert_awaited_once_with(thread_id)
    thread.send.assert_not_awaited()
    assert store.claim_state("discord", key) == "posted"


async def test_forum_starter_without_reply_is_answered_in_its_thread(bot, recovery, store):
    thread_id = h.next_id()
    thread = h.mock_thread(thread_id, FORUM)
    starter = h.mock_message(channel=thread, author=h.mock_member(), content=QUESTION, message_id=thread_id)
    thread.fetch_message.return_value = starter
    bot.fetch_channel.return_value = thread
    _pending(store, starter)

    assert await recovery.run() == RecoveryReport(resumed=1)
    assert thread.send.await_count == 1


async def test_dm_with_earlier_answer_is_found_and_without_is_answered(bot, recovery, store):
    answered = h.mock_dm_channel(later=[])
    asked = h.mock_user()
    q1 = h.mock_message(channel=answered, author=asked, content=QUESTION)
    answered.history = h._history([_bot_reply(bot, answered, to=None)])
    unanswered = h.mock_dm_channel()
    att = h.mock_attachment("dmidecode.txt", QEMU_DMIDECODE.encode())
    q2 = h.mock_message(channel=unanswered, author=asked, content="", attachments=[att])
    unanswered.fetch_message.return_value = q2
    bot.fetch_channel.side_effect = lambda cid: {answered.id: answered, unanswered.id: unanswered}[cid]
    k1, k2 = _pending(store, q1), _pending(store, q2)

    assert await recovery.run() == RecoveryReport(found=1, resumed=1)
    answered.send.assert_not_awaited()
    assert unanswered.send.await_count == 1
    assert unanswered.send.await_args.kwargs["embed"].title == "Verdict: Virtual machine"
    assert store.claim_state("discord", k1) == store.claim_state("discord", k2) == "posted"


@pytest.mark.parametrize(
    ("where", "error"),
    [("message", discord.NotFound), ("channel", discord.NotFound), ("channel", discord.Forbidden)],
)
async def test_deleted_message_or_unreachable_channel_releases_the_claim(
    bot, recovery, store, caplog, where, error
):
    channel = h.mock_text_channel(WATCHED)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    if where == "message":
        bot.get_channel.return_value = channel
        channel.fetch_message.side_effect = _http_error(error, 404)
    else:
        bot.fetch_channel.side_effect = _http_error(error, 403 if error is discord.Forbidden else 404)
    key = _pending(store, question)

    with caplog.at_level("INFO", logger="bot.discord.recovery"):
        assert await recovery.run() == RecoveryReport(released=1)
    channel.send.assert_not_awaited()
    assert store.claim_state("discord", key) is None
    assert sum("claim released" in r.getMessage() for r in caplog.records) == 1


async def test_server_error_leaves_the_claim_for_the_next_start(bot, recovery, store):
    channel = h.mock_text_channel(WATCHED)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    bot.get_channel.return_value = channel
    channel.fetch_message.side_effect = _http_error(discord.DiscordServerError, 503)
    key = _pending(store, question)

    assert await recovery.run() == RecoveryReport(left=1)
    assert store.claim_state("discord", key) == "claimed"
    channel.send.assert_not_awaited()


async def test_helper_answered_meanwhile_releases_without_posting(bot, recovery, store):
    later: list[discord.Message] = []
    channel = h.mock_text_channel(WATCHED, later=later)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    later.append(h.mock_message(channel=channel, author=h.mock_member(roles=[HELPER_ROLE]), content="no VMs"))
    channel.fetch_message.return_value = question
    bot.get_channel.return_value = channel
    key = _pending(store, question)

    assert await recovery.run() == RecoveryReport(resumed=1)
    channel.send.assert_not_awaited()
    assert store.claim_state("discord", key) is None  # settled: nothing was sent


async def test_only_message_claims_of_earlier_processes_within_the_window(bot, deps, store, monkeypatch):
    now = time.time()
    channel = h.mock_text_channel(WATCHED)
    bot.get_channel.return_value = channel
    clock = [now - RECOVERY_WINDOW_SECONDS - 10]
    monkeypatch.setattr(state_mod.time, "time", lambda: clock[0])
    store.claim("discord", "msg:1", where=str(WATCHED))  # older than the window
    clock[0] = now - 100
    store.claim("discord", "interaction:2", where=str(WATCHED))  # expired interaction
    store.claim("discord", "msg:3", where="dm")  # older version: no DM channel recorded
    clock[0] = now + 5
    store.claim("discord", "msg:4", where=str(WATCHED))  # this process's own, in flight
    monkeypatch.undo()
    recovery = ClaimRecovery(
        bot,
        deps,
        AutoReplyCog(bot, deps),
        DirectMessagesCog(bot, deps),
        started_at=now,
        spacing=0,
        clock=lambda: now,
    )

    assert [c.key for c in recovery.pending()] == ["interaction:2", "msg:3"]
    assert await recovery.run() == RecoveryReport(left=2)
    bot.fetch_channel.assert_not_awaited()
    assert channel.history.calls == []
    for key in ("msg:1", "interaction:2", "msg:3", "msg:4"):
        assert store.claim_state("discord", key) == "claimed"


async def test_claims_are_handled_one_at_a_time_with_spacing(bot, deps, store):
    channel = h.mock_text_channel(WATCHED)
    questions = [h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION) for _ in range(3)]
    channel.fetch_message.side_effect = lambda mid: next(q for q in questions if q.id == mid)
    bot.get_channel.return_value = channel
    for q in questions:
        _pending(store, q)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    recovery = ClaimRecovery(
        bot,
        deps,
        AutoReplyCog(bot, deps),
        DirectMessagesCog(bot, deps),
        started_at=time.time() + 60,
        spacing=1.5,
        sleep=sleep,
    )
    assert await recovery.run() == RecoveryReport(resumed=3)
    assert sleeps == [1.5, 1.5]
    # The per-channel cooldown does not hold back recovered claims: each already passed it.
    assert channel.send.await_count == 3


async def test_unexpected_error_is_logged_and_does_not_stop_the_others(bot, recovery, store, caplog):
    channel = h.mock_text_channel(WATCHED)
    bad, good = (h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION) for _ in range(2))
    bot.get_channel.return_value = channel

    def fetch(mid: int) -> discord.Message:
        if mid == bad.id:
            raise RuntimeError("boom")
        return good

    channel.fetch_message.side_effect = fetch
    _pending(store, bad)
    _pending(store, good)
    assert await recovery.run() == RecoveryReport(resumed=1, left=1)
    assert channel.send.await_count == 1
    assert "recovering claim" in caplog.text


async def test_recovery_starts_on_the_first_ready_only(deps):
    client = FarmhandBot(deps)
    client.recovery = mock.NonCallableMagicMock(spec_set=ClaimRecovery)
    client.recovery.run.return_value = RecoveryReport()
    await client.on_ready()
    await client.on_ready()  # a new session after an invalidated one: READY again
    assert client._recovery_task is not None
    await client._recovery_task
    client.recovery.run.assert_awaited_once()
    await client.close()


async def test_without_knowing_its_own_user_nothing_is_answered(bot, recovery, store):
    channel = h.mock_text_channel(WATCHED)
    question = h.mock_message(channel=channel, author=h.mock_member(), content=QUESTION)
    bot.get_channel.return_value = channel
    key = _pending(store, question)
    bot.user = None
    assert await recovery.run() == RecoveryReport(left=1)
    channel.send.assert_not_awaited()
    assert store.claim_state("discord", key) == "claimed"
