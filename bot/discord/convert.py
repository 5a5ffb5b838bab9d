"""discord.py objects -> platform-neutral `bot.core.models` (Author, Event, Attachment)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import discord

from bot.config import DiscordConfig
from bot.core.models import Attachment, Author, Event, EventKind

log = logging.getLogger(__name__)

# Dumps come as plain text files; anything else (images, archives, binaries) is refused.
TEXT_SUFFIXES = frozenset({"", ".txt", ".log"})
TOO_BIG = (
    "`{name}` is {size}, over my {limit} limit: attach or paste just the output of "
    "`sudo dmidecode -t system` and `lscpu` (a few KiB), or cut the file down to those."
)


def human_size(n: int) -> str:
    """Bytes as KiB or MiB, the way Discord users read file sizes."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MiB"
    return f"{max(n // 1024, 1)} KiB"


@dataclass(frozen=True, slots=True)
class ReadAttachments:
    """Attachments that were read, and one line per attachment that was refused."""

    accepted: tuple[Attachment, ...] = ()
    problems: tuple[str, ...] = ()


def is_moderator(member: discord.abc.User | None, cfg: DiscordConfig) -> bool:
    """Manage Messages in the guild, or one of the configured moderator roles."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_messages:
        return True
    return any(role.id in cfg.moderator_roles for role in member.roles)


def is_staff(member: discord.abc.User | None, cfg: DiscordConfig) -> bool:
    """Moderators and trusted helpers: their messages are not auto-answered, their answers silence the bot."""
    if not isinstance(member, discord.Member):
        return False
    return is_moderator(member, cfg) or any(role.id in cfg.helper_roles for role in member.roles)


def author(user: discord.abc.User, cfg: DiscordConfig, self_id: int | None) -> Author:
    """The neutral author of a message or interaction."""
    return Author(
        id=str(user.id),
        name=str(user),
        is_staff=is_staff(user, cfg),
        is_bot=bool(user.bot),
        is_self=self_id is not None and user.id == self_id,
    )


def message_event(
    message: discord.Message,
    *,
    kind: EventKind,
    cfg: DiscordConfig,
    self_id: int | None,
    attachments: Sequence[Attachment] = (),
    category: int | None = None,
    text: str | None = None,
) -> Event:
    """An Event for a message (auto-reply, DM or context-menu target)."""
    return Event(
        platform="discord",
        kind=kind,
        where=str(message.channel.id),
        item_id=str(message.id),
        author=author(message.author, cfg, self_id),
        text=message.content if text is None else text,
        attachments=tuple(attachments),
        created_at=message.created_at,
        category=None if category is None else str(category),
        url=message.jump_url,
    )


def command_event(
    interaction: discord.Interaction,
    *,
    cfg: DiscordConfig,
    text: str,
    attachments: Sequence[Attachment] = (),
    requested_entry: str | None = None,
) -> Event:
    """An Event for a slash command or context menu: always an explicit call."""
    return Event(
        platform="discord",
        kind=EventKind.COMMAND,
        where=str(interaction.channel_id or ""),
        item_id=f"interaction:{interaction.id}",
        author=author(interaction.user, cfg, interaction.client.user.id if interaction.client.user else None),
        text=text,
        attachments=tuple(attachments),
        created_at=interaction.created_at,
        requested_entry=requested_entry,
    )


def is_oversized_text(att: discord.Attachment, max_bytes: int) -> bool:
    """A text file (.txt, .log, no extension) bigger than the limit, judged on Discord's size: not downloaded."""
    return PurePosixPath(att.filename).suffix.lower() in TEXT_SUFFIXES and att.size > max_bytes


def attachment_refusal(att: discord.Attachment, max_bytes: int) -> str | None:
    """Why an attachment is not read (wrong type, too large), or None when it may be read.

    Decided on the attachment's metadata, before any download.
    """
    suffix = PurePosixPath(att.filename).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return f"`{att.filename}`: only .txt or .log files (or plain text) are read"
    if att.size > max_bytes:
        return TOO_BIG.format(name=att.filename, size=human_size(att.size), limit=human_size(max_bytes))
    return None


async def read_attachments(attachments: Sequence[discord.Attachment], max_bytes: int) -> ReadAttachments:
    """Download the text attachments within the limit; binary, oversized or vanished files become problems.

    The content is checked with `detector.decode` (refuses binary and over-limit data)
    and handed on as bytes; it is never stored.
    """
    from detector import InputRefused, decode  # the detector's own text rules

    accepted: list[Attachment] = []
    problems: list[str] = []
    for att in attachments:
        refusal = attachment_refusal(att, max_bytes)
        if refusal is not None:
            problems.append(refusal)
            continue
        try:
            data = await att.read()
        except (discord.NotFound, discord.Forbidden):
            problems.append(f"`{att.filename}` could not be downloaded (deleted?)")
            continue
        except discord.HTTPException as exc:
            log.warning("discord: attachment download failed: %s", exc.status)
            problems.append(f"`{att.filename}` could not be downloaded, try again")
            continue
        try:
            decode(data, max_bytes)
        except InputRefused as exc:
            problems.append(f"`{att.filename}`: {exc}")
            continue
        accepted.append(
            Attachment(filename=att.filename, size=len(data), content=data, content_type=att.content_type)
        )
    return ReadAttachments(tuple(accepted), tuple(problems))
