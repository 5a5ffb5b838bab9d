"""Platform-neutral events and decisions: what adapters hand the engine and get back.

An adapter (Discourse, Discord, CLI) turns a platform object into an `Event`, asks
`Engine.decide(event)` for a `Decision`, renders it and posts it. The engine never
sends anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from detector.model import Verdict
from knowledge.model import Entry, Match


class EventKind(StrEnum):
    NEW_TOPIC = "new_topic"  # first post of a forum topic / new message in a watched channel / forum post
    REPLY = "reply"  # a later post in a topic or thread
    MENTION = "mention"  # the bot was @mentioned: an explicit call
    PRIVATE = "private_message"  # PM on the forum, DM on Discord: an explicit call
    COMMAND = "command"  # slash command / context menu / CLI: an explicit call


EXPLICIT_KINDS = frozenset({EventKind.MENTION, EventKind.PRIVATE, EventKind.COMMAND})


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    size: int
    content: bytes | None = None  # None when not downloaded (too large, not text)
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    id: str
    name: str
    is_staff: bool = False  # forum staff / Discord moderator or trusted helper
    is_bot: bool = False
    is_self: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    platform: str  # "discourse" | "discord" | "cli"
    kind: EventKind
    where: str  # topic id / channel or thread id / DM channel
    item_id: str  # post id / message id, unique within (platform)
    author: Author
    text: str
    attachments: tuple[Attachment, ...] = ()
    created_at: datetime | None = None
    category: str | None = None  # forum category id / Discord parent channel id
    url: str | None = None
    # The adapter sets this when a staff member or trusted helper already replied in the thread.
    answered_by_human: bool = False
    # For COMMAND events: a topic the moderator picked (entry id), if any.
    requested_entry: str | None = None

    @property
    def explicit(self) -> bool:
        """An explicit call always gets an answer."""
        return self.kind in EXPLICIT_KINDS


class Action(StrEnum):
    ANSWER = "answer"  # reply with a knowledge-base entry
    VERDICT = "verdict"  # reply with a dump verdict
    BOTH = "answer_and_verdict"
    ASK_FOR_DUMP = "ask_for_dump"  # explicit call about "is my box bare metal?" with no dump
    HELP = "help"  # explicit call we cannot place: short help
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str  # one line, for logs, the audit log and moderators
    entry: Entry | None = None
    match: Match | None = None
    verdict: Verdict | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def posts(self) -> bool:
        return self.action is not Action.SILENT

    @property
    def audit_entry(self) -> str | None:
        """The entry to write in the audit log: the answering one, else the closest candidate.

        Silent decisions keep their closest entry so the moderators' digest can show what
        a near miss would have answered.
        """
        if self.entry is not None:
            return self.entry.id
        return self.match.candidate if self.match is not None else None
