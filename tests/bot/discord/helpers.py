"""Typed `spec_set` mocks of discord.py objects, in the style of python-discord's `tests/helpers.py`.

`spec_set` makes a typo'd attribute (or one discord.py does not have) an error instead
of a silently passing test, and `isinstance(mock, discord.Member)` holds, so the code
under test takes the same branches as with real objects. Coroutine methods become
`AsyncMock`s automatically.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import discord
from discord.ext import commands

_ids = itertools.count(800_000_000_000_000_000)
GUILD_ID = 600_000_000_000_000_001


def next_id() -> int:
    return next(_ids)


def _mock(cls: type, **attrs: Any) -> Any:
    m = mock.NonCallableMagicMock(spec_set=cls)
    for name, value in attrs.items():
        setattr(m, name, value)
    return m


def mock_role(role_id: int | None = None, name: str = "role") -> discord.Role:
    return _mock(discord.Role, id=role_id or next_id(), name=name)


def mock_guild() -> discord.Guild:
    return _mock(discord.Guild, id=GUILD_ID, name="ThreeFold")


def mock_member(
    *, user_id: int | None = None, bot: bool = False, roles: Iterable[int] = (), manage_messages: bool = False
) -> discord.Member:
    uid = user_id or next_id()
    return _mock(
        discord.Member,
        id=uid,
        bot=bot,
        name=f"member{uid}",
        mention=f"<@{uid}>",
        roles=[mock_role(r) for r in roles],
        guild_permissions=discord.Permissions(manage_messages=manage_messages),
        __str__=mock.Mock(return_value=f"member{uid}"),
    )


def mock_user(*, user_id: int | None = None, bot: bool = False) -> discord.User:
    uid = user_id or next_id()
    return _mock(discord.User, id=uid, bot=bot, name=f"user{uid}", mention=f"<@{uid}>")


def _history(messages: list[discord.Message]):
    """A `history()` yielding `messages` (the list may be filled later); calls' kwargs in `.calls`."""
    calls: list[dict[str, Any]] = []

    def history(**kwargs: Any) -> AsyncIterator[discord.Message]:
        calls.append(kwargs)

        async def gen() -> AsyncIterator[discord.Message]:
            for m in messages:
                yield m

        return gen()

    history.calls = calls  # type: ignore[attr-defined]
    return history


def mock_text_channel(
    channel_id: int | None = None, later: list[discord.Message] | None = None
) -> discord.TextChannel:
    channel = _mock(discord.TextChannel, id=channel_id or next_id(), guild=mock_guild())
    channel.history = _history(later if later is not None else [])
    channel.send.side_effect = lambda *a, **k: mock_message(channel=channel, author=mock_user(bot=True))
    return channel


def mock_thread(thread_id: int, parent_id: int, later: list[discord.Message] | None = None) -> discord.Thread:
    thread = _mock(discord.Thread, id=thread_id, parent_id=parent_id, guild=mock_guild())
    thread.history = _history(later if later is not None else [])
    thread.send.side_effect = lambda *a, **k: mock_message(channel=thread, author=mock_user(bot=True))
    return thread


def mock_dm_channel(later: list[discord.Message] | None = None) -> discord.DMChannel:
    channel = _mock(discord.DMChannel, id=next_id())
    channel.history = _history(later if later is not None else [])
    channel.send.side_effect = lambda *a, **k: mock_message(channel=channel, author=mock_user(bot=True))
    return channel


def mock_attachment(filename: str, content: bytes, *, size: int | None = None) -> discord.Attachment:
    att = _mock(
        discord.Attachment,
        id=next_id(),
        filename=filename,
        size=len(content) if size is None else size,
        content_type="text/plain",
    )
    att.read.return_value = content
    return att


def mock_message(
    *,
    channel: Any,
    author: Any,
    content: str = "",
    message_id: int | None = None,
    attachments: list[discord.Attachment] | None = None,
    reference: discord.MessageReference | None = None,
) -> discord.Message:
    mid = message_id or next_id()
    guild = None if isinstance(channel, discord.DMChannel) else mock_guild()
    msg = _mock(
        discord.Message,
        id=mid,
        channel=channel,
        author=author,
        content=content,
        guild=guild,
        attachments=attachments or [],
        type=discord.MessageType.default,
        reference=reference,
        created_at=datetime.now(UTC),
        jump_url=f"https://discord.com/channels/{GUILD_ID}/{channel.id}/{mid}",
    )
    msg.to_reference.return_value = discord.MessageReference(message_id=mid, channel_id=channel.id)
    return msg


def mock_bot(user_id: int = 555) -> commands.Bot:
    bot = _mock(commands.Bot, user=mock_user(user_id=user_id, bot=True))
    return bot


def mock_interaction(
    *, user: Any, bot: commands.Bot, channel_id: int | None = None, manage_messages: bool = False
) -> discord.Interaction:
    response = _mock(discord.InteractionResponse)
    response.is_done.return_value = False
    followup = _mock(discord.Webhook)
    return _mock(
        discord.Interaction,
        id=next_id(),
        user=user,
        client=bot,
        channel_id=channel_id or next_id(),
        created_at=datetime.now(UTC),
        permissions=discord.Permissions(manage_messages=manage_messages),
        response=response,
        followup=followup,
    )


def mock_partial_message(bot: Any) -> discord.PartialMessage:
    """Wire `bot.get_partial_messageable(...).get_partial_message(...)` to a typed PartialMessage."""
    partial = _mock(discord.PartialMessage)
    messageable = _mock(discord.PartialMessageable)
    messageable.get_partial_message.return_value = partial
    bot.get_partial_messageable.return_value = messageable
    return partial
