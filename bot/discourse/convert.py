"""Discourse post JSON (from /posts.json, /private-posts.json or a webhook) -> engine `Event`."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from bot.core.models import Author, Event, EventKind

PLATFORM = "discourse"
_TAG = re.compile(r"<[^>]+>")
SYSTEM_USERNAMES = frozenset({"system", "discobot"})
# Discourse's Post.types: regular 1, moderator_action 2, small_action 3, whisper 4.
REGULAR_POST = 1


# Each reply carries the id of the post it answers in an HTML comment: Discourse keeps it in
# `raw` and strips it from `cooked`, so nobody sees it, and a re-check after a POST of unknown
# outcome finds exactly this reply (not another one to the same post number).
_MARKER = "<!-- farmhand:reply-to:{post_id} -->"
_MARKER_RE = re.compile(r"<!-- farmhand:reply-to:(\d+) -->")


def with_marker(raw: str, post_id: int) -> str:
    """The reply's Markdown with its invisible marker (the post it answers) at the end."""
    return f"{raw.rstrip()}\n\n{_MARKER.format(post_id=int(post_id))}"


def marked_for(post: dict[str, Any]) -> int | None:
    """The post id in a reply's marker; None without `raw` or without a marker."""
    found = _MARKER_RE.search(str(post.get("raw") or ""))
    return int(found.group(1)) if found else None


def post_text(post: dict[str, Any]) -> str:
    """The post's markdown (`raw`), or its HTML stripped to text when raw is missing."""
    raw = post.get("raw")
    if isinstance(raw, str):
        return raw
    return html.unescape(_TAG.sub("", str(post.get("cooked") or "")))


def parse_time(value: Any) -> datetime | None:
    """Discourse ISO timestamps ("2024-05-01T10:00:00.000Z") as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_private(post: dict[str, Any], *, from_private_feed: bool = False) -> bool:
    """A private-message post (from the PM feed, or a webhook that says so)."""
    return from_private_feed or post.get("topic_archetype") == "private_message"


def post_type(post: dict[str, Any]) -> int:
    """Discourse's `post_type` (1 regular, 2 moderator action, 3 small action, 4 whisper)."""
    value = post.get("post_type", REGULAR_POST)
    return value if isinstance(value, int) else REGULAR_POST


def is_regular(post: dict[str, Any]) -> bool:
    """Only regular posts are questions: moderator actions, small actions and whispers never are."""
    return post_type(post) == REGULAR_POST


def is_flag_message(first_post: dict[str, Any], base_url: str) -> bool:
    """True for the first post of a PM Discourse made from a flag ("notify moderators" or
    "send @user a message"): the flagger's message, then the flagged post's URL on this forum
    alone on the last line (`raw`, or the text of `cooked` when the topic view has no raw)."""
    lines = [line.strip() for line in post_text(first_post).splitlines() if line.strip()]
    if len(lines) < 2:  # a bare link is a normal message
        return False
    base = re.escape(base_url.rstrip("/"))
    return re.fullmatch(rf"(?:{base})?/t/[^\s/]+/\d+/\d+/?", lines[-1]) is not None


def mentions(text: str, username: str) -> bool:
    """True when the text @mentions `username` (not inside an email address or a longer name)."""
    return re.search(rf"(?<![\w@.])@{re.escape(username)}(?![\w-])", text, re.IGNORECASE) is not None


def author_of(post: dict[str, Any], me: str) -> Author:
    """The post's author, with the bot's own account and system/bot users marked."""
    username = str(post.get("username") or "")
    user_id = post.get("user_id")
    is_bot = (isinstance(user_id, int) and user_id <= 0) or username.lower() in SYSTEM_USERNAMES
    return Author(
        id=str(user_id if user_id is not None else username),
        name=username,
        is_staff=bool(post.get("staff") or post.get("moderator") or post.get("admin")),
        is_bot=is_bot,
        is_self=username.lower() == me.lower(),
    )


def to_event(
    post: dict[str, Any],
    *,
    me: str,
    base_url: str,
    categories: tuple[int, ...],
    private: bool,
    bot_answered_topic: bool,
    answered_by_human: bool = False,
) -> Event | None:
    """The event for a post the bot should consider, or None for posts it ignores outright.

    Considered: PMs to the bot, posts that @mention it, first posts of topics in the
    configured categories (all when empty), and follow-up posts in topics the bot
    already answered (a dump pasted in reply to the bot gets its verdict).
    Only regular posts (`post_type` 1): a whisper is never answered, not even when it
    mentions the bot (Discourse would turn a reply asked for as a whisper into a public
    post whenever the bot may not whisper; see docs/discourse.md).
    """
    if not is_regular(post):
        return None
    text = post_text(post)
    title = str(post.get("topic_title") or "").strip()
    post_number = int(post.get("post_number") or 0)
    category = post.get("category_id")
    if private:
        kind = EventKind.PRIVATE
    elif mentions(text, me):
        kind = EventKind.MENTION
    elif post_number == 1:
        if categories and category not in categories:
            return None
        kind = EventKind.NEW_TOPIC
    elif bot_answered_topic:
        kind = EventKind.REPLY
    else:
        return None
    # The title is part of the question for first posts, and for calls that say little by
    # themselves ("@farmhand?" in a VM topic). A call that asks its own question later in a
    # topic about something else is judged on its own words.
    with_title = kind is EventKind.NEW_TOPIC or (
        kind in (EventKind.MENTION, EventKind.PRIVATE) and (post_number <= 1 or _few_words(text))
    )
    body = f"{title}\n\n{text}" if title and with_title else text
    topic_id = post.get("topic_id")
    slug = post.get("topic_slug") or "topic"
    return Event(
        platform=PLATFORM,
        kind=kind,
        where=str(topic_id),
        item_id=str(post.get("id")),
        author=author_of(post, me),
        text=body,
        created_at=parse_time(post.get("created_at")),
        category=None if category is None else str(category),
        url=f"{base_url}/t/{slug}/{topic_id}/{post_number}",
        answered_by_human=answered_by_human,
    )


_WORDS = re.compile(r"[^\W_]+")
_MENTION = re.compile(r"@[\w.-]+")


def _few_words(text: str, least: int = 5) -> bool:
    """Fewer than `least` words besides @mentions: the call leans on its topic's title."""
    return len(_WORDS.findall(_MENTION.sub(" ", text))) < least
