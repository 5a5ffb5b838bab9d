"""Replay an exported history through the matcher, to calibrate before going live.

Reads what an admin can export without the bot:
- Discourse `/posts.json` pages: an object with `latest_posts` (or a topic's
  `post_stream.posts`), a JSON list of such pages, or a directory of them;
- posts as a JSON array or JSONL, one object per post: `id`, and `text`, `raw` or
  `cooked` (HTML), optionally `title`, `url`, `created_at`, `post_number`/`is_reply`,
  `user_id`/`author_id`, `is_bot`;
- a Discord channel export (DiscordChatExporter JSON: `{"messages": [...]}`).

Only posts the bot could answer on its own count: forum topic starters and Discord
channel messages. Replies, bot and system posts are skipped (the engine never auto-answers
them). The threshold table is the matcher's own answer at each threshold, not an
estimate (see `_on_topic_at`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bot.inputs import BadLines, InputError, os_reason, read_text
from bot.ops.report import render_digest
from knowledge import KnowledgeBase

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50..0.95
MAX_EXPORT_BYTES = 512 * 1024 * 1024  # refuse anything bigger than a forum's whole history


class ExportError(ValueError):
    """The export cannot be read. The message is one line."""


@dataclass(frozen=True, slots=True)
class ExportPost:
    """One post or message from an export, as plain text."""

    platform: str  # "discourse" | "discord" | "export"
    id: str
    text: str
    where: str = ""
    author_id: str = ""
    title: str | None = None
    url: str | None = None
    created_at: datetime | None = None
    is_reply: bool = False
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One replayed decision, shaped like an audit-log row so the same digest renders it."""

    at: datetime | None
    platform: str
    where: str
    item_id: str
    author_id: str
    kind: str
    action: str
    entry: str | None
    score: float | None
    reason: str
    verdict: str | None
    url: str | None
    title: str | None
    mode: str = "replay"
    posted: bool = False


@dataclass(frozen=True, slots=True)
class ReplayResult:
    records: tuple[ReplayRecord, ...]
    answered_at: dict[float, int] = field(default_factory=dict)  # threshold -> posts answered
    skipped: dict[str, int] = field(default_factory=dict)  # why -> count
    threshold: float = 0.0


# -- HTML ---------------------------------------------------------------------------------

_BLOCK = {"p", "br", "div", "li", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
_DROP = {"script", "style"}


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._drop += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._drop:
            self.parts.append(data)


def strip_html(html: str) -> str:
    """Discourse `cooked` HTML to plain text (block elements become line breaks)."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


# -- reading exports ----------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _text(post: dict[str, Any]) -> str:
    for key in ("text", "raw", "content"):
        if isinstance(post.get(key), str):
            return post[key]
    return strip_html(post["cooked"]) if isinstance(post.get("cooked"), str) else ""


def _discourse_post(post: dict[str, Any]) -> ExportPost:
    number = post.get("post_number")
    topic, slug = post.get("topic_id"), post.get("topic_slug")
    url = post.get("url") or post.get("post_url")
    if not url and topic is not None:
        url = f"/t/{slug or 'topic'}/{topic}/{number or 1}"
    user_id = post.get("user_id")
    return ExportPost(
        platform="discourse",
        id=str(post["id"]),
        text=_text(post),
        where=str(topic or ""),
        author_id=str(user_id if user_id is not None else post.get("username", "")),
        title=_opt_str(post.get("topic_title")) or _opt_str(post.get("title")),
        url=_opt_str(url),
        created_at=_time(post.get("created_at")),
        is_reply=isinstance(number, int) and number > 1,
        # Discourse's own accounts (system, discobot) have negative ids.
        is_bot=(isinstance(user_id, int) and user_id <= 0) or post.get("username") in ("system", "discobot"),
    )


def _plain_post(post: dict[str, Any]) -> ExportPost:
    if "post_number" in post or "cooked" in post or "topic_id" in post:
        return _discourse_post(post)
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    return ExportPost(
        platform=str(post.get("platform") or "export"),
        id=str(post["id"]),
        text=_text(post),
        where=str(post.get("where") or post.get("channel") or ""),
        author_id=str(post.get("author_id") or post.get("user_id") or author.get("id") or ""),
        title=_opt_str(post.get("title")),
        url=_opt_str(post.get("url")),
        created_at=_time(post.get("created_at") or post.get("timestamp")),
        is_reply=bool(post.get("is_reply", False)),
        is_bot=bool(post.get("is_bot", False) or author.get("isBot", False)),
    )


def _discord_export(doc: dict[str, Any]) -> Iterator[ExportPost]:
    guild = (doc.get("guild") or {}).get("id")
    channel = (doc.get("channel") or {}).get("id")
    for msg in doc["messages"]:
        if not isinstance(msg, dict) or "id" not in msg:
            continue
        author = msg.get("author") or {}
        # System messages (joins, pins, thread created) are not posts anyone asked.
        system = msg.get("type") not in (None, "Default", "Reply")
        url = f"https://discord.com/channels/{guild}/{channel}/{msg['id']}" if guild and channel else None
        yield ExportPost(
            platform="discord",
            id=str(msg["id"]),
            text=str(msg.get("content") or ""),
            where=str(channel or ""),
            author_id=str(author.get("id", "")),
            url=url,
            created_at=_time(msg.get("timestamp")),
            is_bot=bool(author.get("isBot", False)) or system,
        )


def _from_json(doc: Any, source: str) -> Iterator[ExportPost]:
    if isinstance(doc, list):
        for item in doc:
            yield from _from_json(item, source)
        return
    if not isinstance(doc, dict):
        raise ExportError(f"{source}: expected JSON objects (posts or pages), found {type(doc).__name__}")
    if isinstance(doc.get("latest_posts"), list):
        pages = doc["latest_posts"]
    elif isinstance((doc.get("post_stream") or {}).get("posts"), list):
        pages = [
            {**p, "topic_title": p.get("topic_title") or doc.get("title")}
            for p in doc["post_stream"]["posts"]
        ]
    elif isinstance(doc.get("messages"), list):
        yield from _discord_export(doc)
        return
    elif "id" in doc:
        yield _plain_post(doc)
        return
    else:
        raise ExportError(
            f"{source}: an object that is neither a post, a posts.json page nor a Discord export"
        )
    for post in pages:
        if isinstance(post, dict) and "id" in post:
            yield _discourse_post(post)


def _read_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            raise ExportError(f"{path}: {size} bytes is over the {MAX_EXPORT_BYTES} byte limit for an export")
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {os_reason(exc)}") from None


def _parse(raw: str, source: str, bad: BadLines | None) -> Iterator[ExportPost]:
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        doc = None
    if doc is not None:
        yield from _from_json(doc, source)
        return
    # Not one JSON document: JSONL, one post (or page) per line.
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            posts = list(_from_json(item, f"{source}:{n}"))
        except json.JSONDecodeError as exc:
            if bad is None:
                raise ExportError(f"{source}:{n}: not JSON or JSONL: {exc.msg}") from None
            bad.add(source, n, f"not JSON ({exc.msg})")
            continue
        except ExportError as exc:
            if bad is None:
                raise
            bad.add(source, n, str(exc).removeprefix(f"{source}:{n}: "))
            continue
        yield from posts


def read_export(path: str | Path, bad: BadLines | None = None) -> list[ExportPost]:
    """All posts in an export file or directory (*.json, *.jsonl), or stdin for `-`, de-duplicated.

    A bad JSONL line raises ExportError, or, when `bad` is given, is recorded there and skipped.
    """
    if str(path) == "-":
        try:
            sources = [("stdin", read_text("-"))]
        except InputError as exc:
            raise ExportError(str(exc)) from None
    else:
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix in (".json", ".jsonl") and f.is_file())
            if not files:
                raise ExportError(f"{p}: no .json or .jsonl files in this directory")
        elif p.exists():
            files = [p]
        else:
            raise ExportError(f"{p}: no such file or directory")
        sources = [(str(f), _read_file(f)) for f in files]
    seen: set[tuple[str, str]] = set()
    posts: list[ExportPost] = []
    for source, raw in sources:
        for post in _parse(raw, source, bad):
            if (post.platform, post.id) not in seen:
                seen.add((post.platform, post.id))
                posts.append(post)
    return posts


# -- replaying ----------------------------------------------------------------------------


def _prose(post: ExportPost) -> str:
    # A topic starter is judged on its title and its body together, as the forum adapter sees it.
    return f"{post.title}\n\n{post.text}" if post.title and not post.is_reply else post.text


_EDGE = 1e-3  # Match.score is rounded: near a threshold, ask the matcher itself


def _on_topic_at(kb: KnowledgeBase, prose: str, thresholds: Iterable[float]) -> dict[float, bool]:
    """Would the matcher answer `prose` at each threshold? Exact, in about two matcher calls.

    A threshold is a cut-off on the score, so a post off topic at 0 is off topic at
    every threshold, and one on topic at 0 is on topic wherever its score clears the
    threshold; only thresholds within rounding distance of the score are asked directly.
    """
    base = kb.match(prose, threshold=0.0)
    out: dict[float, bool] = {}
    for t in thresholds:
        if not base.on_topic:
            out[t] = False
        elif abs(base.score - t) > _EDGE:
            out[t] = base.score > t
        else:
            out[t] = kb.match(prose, threshold=t).on_topic
    return out


def replay(
    posts: Iterable[ExportPost],
    kb: KnowledgeBase,
    *,
    min_score: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> ReplayResult:
    """Match every post the bot could auto-answer; count how many each threshold would answer."""
    threshold = kb.threshold if min_score is None else min_score
    # The threshold in force is always a row, so the table shows where the bot stands now.
    answered_at = dict.fromkeys(sorted({*(round(t, 4) for t in thresholds), round(threshold, 4)}), 0)
    skipped: dict[str, int] = {}
    records: list[ReplayRecord] = []
    for post in posts:
        why = "bot or system post" if post.is_bot else "reply in a topic" if post.is_reply else None
        if why is None and not post.text.strip() and not post.title:
            why = "empty"
        if why:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        prose = _prose(post)
        match = kb.match(prose, threshold=threshold)
        for t, yes in _on_topic_at(kb, prose, answered_at).items():
            answered_at[t] += yes
        records.append(
            ReplayRecord(
                at=post.created_at,
                platform=post.platform,
                where=post.where,
                item_id=post.id,
                author_id=post.author_id,
                kind="new_topic",
                action="answer" if match.on_topic else "silent",
                entry=match.entry or match.candidate,
                score=match.score,
                reason="; ".join(match.reasons[:4]) or "no cue matched",
                verdict=None,
                url=post.url,
                title=post.title,
            )
        )
    return ReplayResult(tuple(records), answered_at, skipped, threshold)


def threshold_table(result: ReplayResult) -> list[str]:
    """Markdown lines: how many replayed posts each threshold would answer."""
    n = len(result.records)
    lines = ["## Posts answered at each threshold", ""]
    lines += ["| threshold | posts answered | share |", "|---|---|---|"]
    for t, count in sorted(result.answered_at.items()):
        mark = " (current)" if abs(t - result.threshold) < 1e-9 else ""
        share = f"{100 * count / n:.1f}%" if n else "-"
        lines.append(f"| {t:.2f}{mark} | {count} | {share} |")
    if result.skipped:
        why = ", ".join(f"{v} {k}" for k, v in sorted(result.skipped.items()))
        lines += ["", f"Not considered (never auto-answered): {why}."]
    return lines


def replay_report(result: ReplayResult, *, source: str) -> str:
    """The digest of a replay plus its threshold table."""
    times = sorted(r.at for r in result.records if r.at is not None)
    period = f"posts from {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}" if times else None
    return render_digest(
        result.records,
        title=f"farmhand replay: {Path(source).name}",
        threshold=result.threshold,
        period=period,
        extra=threshold_table(result),
    )
