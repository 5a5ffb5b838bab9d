"""Triage on Discourse: the matcher's unsure posts, batched into one private message to the moderators.

The forum has no buttons, so the same flow runs on text. Posts in the abstain band (band
"unsure": on topic enough to notice, not sure enough to auto-reply) are queued in the state;
at most once per `triage_minutes` the queued ones go, numbered, into one PM to
`discourse.triage_recipients` (usernames or group names; the first batch opens the PM, later
batches are replies in it). Each item has its link, the masked excerpt, the candidate entry and
the probability. A recipient replies, one command a line:

- `send 3` — post item 3's candidate entry as a reply to the post;
- `send 3 rented-servers` — post that entry instead;
- `skip 3` — nothing is posted (a negative label).

The bot acts and confirms in the same PM. It reads commands only in that one PM topic (its id is
kept in the state), and only from the recipients named in the config (or, when a group is named,
from staff); posts there are never treated as questions. The first decision on an item wins
(`Store.triage_decide`), and the reply claims the post like an auto-reply, so an item is
answered at most once. Every decision is stored as a label (bot/labels.py).
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

from bot import labels
from bot.core.models import Action, Decision, Event
from bot.discourse.client import ForumError, ForumRejected
from bot.discourse.convert import PLATFORM, author_of, with_marker
from bot.render import render_answer_md
from bot.state import TriageItem

if TYPE_CHECKING:
    from bot.discourse.adapter import DiscourseAdapter

log = logging.getLogger(__name__)

TOPIC_KEY = "discourse:triage-topic"  # the PM topic the commands are read from
LAST_KEY = "discourse:triage-last"  # unix time of the last batch sent
TITLE = "farmhand triage: posts I was unsure about"
EXCERPT_CHARS = 300
MAX_ITEMS = 25  # per message; the rest waits for the next batch
_COMMAND = re.compile(r"^\s*(send|skip)\s+#?(\d{1,9})(?:\s+([a-z0-9][a-z0-9-]{0,79}))?\s*$", re.I)
GROUP_NAMES = frozenset({"moderators", "staff", "admins"})


def parse_commands(raw: str) -> list[tuple[str, int, str | None]]:
    """The `send N [ENTRY]` / `skip N` lines of a post (quotes and other lines ignored)."""
    out = []
    for line in (raw or "").splitlines():
        if line.lstrip().startswith(">"):
            continue  # a quote of the bot's own message
        m = _COMMAND.match(line)
        if m:
            out.append((m.group(1).lower(), int(m.group(2)), (m.group(3) or "").lower() or None))
    return out


class DiscourseTriage:
    """Queue, batch and settle triage items for one forum adapter."""

    def __init__(self, adapter: DiscourseAdapter) -> None:
        self.adapter = adapter
        self.cfg = adapter.cfg
        self.store = adapter.store

    @property
    def enabled(self) -> bool:
        return bool(self.cfg.triage_recipients) and not self.adapter.shadow

    def topic_id(self) -> int | None:
        """The triage PM's topic id, once the first batch was sent."""
        value = self.store.kv_get(TOPIC_KEY)
        return int(value) if value and value.isdigit() else None

    # -- queueing and sending ----------------------------------------------------------------

    def queue(self, event: Event, decision: Decision) -> None:
        """Queue a silent post whose match is in the abstain band (public posts only)."""
        match = decision.match
        if not self.enabled or match is None or decision.posts or match.band != "unsure":
            return
        if event.kind.value != "new_topic":
            return
        reasons = [r for r in match.reasons if r.startswith("feature ")][:3]
        item = self.store.triage_add(
            platform=PLATFORM,
            item_id=event.item_id,
            where=event.where,
            author_id=event.author.id,
            text=labels.mask_text(event.text),
            entry=match.candidate,
            score=match.score,
            reasons="\n".join(reasons),
            url=event.url,
        )
        if item is not None:
            log.info("discourse: post %s queued for triage as #%d", event.item_id, item.number)

    async def flush(self, now: float | None = None) -> None:
        """Send the queued items in one message, at most once per `triage_minutes`."""
        if not self.enabled:
            return
        now = time.time() if now is None else now
        last = float(self.store.kv_get(LAST_KEY) or 0)
        if now - last < self.cfg.triage_minutes * 60:
            return
        queued = self.store.triage_items(PLATFORM, state="queued")[:MAX_ITEMS]
        if not queued:
            return
        raw = self.render_batch(queued)
        client = self.adapter.client
        topic = self.topic_id()
        try:
            if topic is None:
                post = await client.private_message(TITLE, raw, list(self.cfg.triage_recipients))
                self.store.kv_set(TOPIC_KEY, str(int(post["topic_id"])))
            else:
                post = await client.reply(topic, raw, None)
        except ForumError as exc:
            log.warning("discourse: could not send the triage message (%s); will retry", exc)
            return
        self.store.kv_set(LAST_KEY, str(now))
        self.store.triage_shown(PLATFORM, [i.item_id for i in queued], str(post.get("id") or ""))
        log.info("discourse: triage message with %d item(s) sent", len(queued))

    def render_batch(self, items: list[TriageItem]) -> str:
        """The numbered items of one triage message, with the command help."""
        kb = self.adapter.engine.kb
        lines = [
            f"I was unsure about {len(items)} post{'s' if len(items) != 1 else ''}. Reply with "
            "`send N` (post the suggested answer), `send N ENTRY` (another answer) or `skip N`, "
            "one a line.",
            "",
        ]
        for item in items:
            entry = kb.get(item.entry) if item.entry else None
            score = "?" if item.score is None else f"{item.score:.2f}"
            excerpt = " ".join(item.text.split())
            if len(excerpt) > EXCERPT_CHARS:
                excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
            name = f"`{entry.id}` ({entry.title})" if entry else "none"
            lines.append(f"**{item.number}.** {item.url or ''}")
            lines.append(f"> {excerpt}")
            lines.append(f"entry {name}, probability {score}")
            lines.append("")
        entries = ", ".join(f"`{e.id}`" for e in kb.entries)
        lines.append(f"Entries: {entries}")
        return "\n".join(lines).strip() + "\n"

    # -- commands --------------------------------------------------------------------------------

    def is_command_post(self, post: dict[str, Any]) -> bool:
        """A post in the triage PM (the one place commands are read)."""
        topic = self.topic_id()
        return self.enabled and topic is not None and int(post.get("topic_id") or 0) == topic

    def may_decide(self, post: dict[str, Any]) -> bool:
        """The author is a named recipient, or staff when a group is named."""
        author = author_of(post, self.adapter.me)
        names = {n.lower() for n in self.cfg.triage_recipients}
        if author.name.lower() in names or str(post.get("username") or "").lower() in names:
            return True
        return bool(names & GROUP_NAMES) and author.is_staff

    async def handle_command_post(self, post: dict[str, Any]) -> bool:
        """Act on the commands of one post in the triage PM and confirm; True when handled."""
        author = author_of(post, self.adapter.me)
        if author.is_self or author.is_bot:
            return True
        commands = parse_commands(str(post.get("raw") or ""))
        if not commands:
            return True
        if not self.may_decide(post):
            log.info("discourse: triage command from a non-recipient in post %s ignored", post.get("id"))
            return True
        who = author.id  # the forum user id, as in the audit log (what `purge --user` takes)
        answers = [await self._command(action, number, entry, who) for action, number, entry in commands]
        topic = int(post.get("topic_id") or 0)
        try:
            await self.adapter.client.reply(topic, "\n".join(answers), int(post.get("post_number") or 0) or None)
        except ForumError as exc:
            log.warning("discourse: could not confirm triage commands of post %s (%s)", post.get("id"), exc)
        return True

    async def _command(self, action: str, number: int, entry_id: str | None, who: str) -> str:
        item = self.store.triage_get(PLATFORM, number=number)
        if item is None or item.state == "queued":
            return f"#{number}: no such item."
        if item.state == "decided":
            return f"#{number}: already decided ({item.decision})."
        kb = self.adapter.engine.kb
        if action == "send":
            entry_id = entry_id or item.entry
            entry = kb.get(entry_id) if entry_id else None
            if entry is None:
                return f"#{number}: unknown entry `{entry_id}`."
            decision = "other" if entry.id != item.entry else "send"
        else:
            entry, decision = None, "not_this"
        if not self.store.triage_decide(PLATFORM, item.item_id, by=who, decision=decision):
            return f"#{number}: already decided."
        if entry is not None:
            problem = await self._answer(item, entry)
            if problem is not None:
                self.store.triage_undo(PLATFORM, item.item_id)
                return f"#{number}: not sent: {problem}."
        labels.record(
            self.store,
            platform=PLATFORM,
            item_id=item.item_id,
            where=item.where,
            text=item.text,
            masked=True,
            entry=entry.id if entry else None,
            decision=decision,
            decided_by=who,
            author_id=item.author_id,
            url=item.url,
        )
        if entry is None:
            return f"#{number}: skipped."
        return f"#{number}: sent `{entry.id}` to {item.url}."

    async def _answer(self, item: TriageItem, entry: Any) -> str | None:
        """Reply to the post with the entry, once; a problem (a few words) or None."""
        key = f"post:{item.item_id}"
        if not self.store.claim(PLATFORM, key, where=item.where):
            return "the post has already been answered"
        client = self.adapter.client
        try:
            topic = await client.topic(int(item.where))
            posts = list((topic.get("post_stream") or {}).get("posts") or [])
            post = next((p for p in posts if str(p.get("id")) == item.item_id), None)
            if post is None:
                posts = await client.topic_posts(int(item.where), [int(item.item_id)])
                post = next((p for p in posts if str(p.get("id")) == item.item_id), None)
            if post is None:
                self.store.release(PLATFORM, key)
                return "the post is gone"
            decision = Decision(Action.ANSWER, f"triage: moderator chose {entry.id}", entry=entry)
            raw = with_marker(render_answer_md(decision, platform=PLATFORM), int(item.item_id))
            reply = await client.reply(int(item.where), raw, int(post.get("post_number") or 0) or None)
        except ForumRejected as exc:
            self.store.release(PLATFORM, key)
            return f"the forum refused it ({exc.status})"
        except ForumError as exc:
            self.store.release(PLATFORM, key)
            return f"the forum did not answer ({type(exc).__name__})"
        reply_id = str(reply.get("id") or (reply.get("pending_post") or {}).get("id") or "?")
        self.store.mark_posted(PLATFORM, key, reply_id, where=item.where)
        self.store.record_triage_sent(PLATFORM, item, entry.id, mode="live")
        return None


# -- labels from outside triage: removed replies, explicit calls ------------------------------------

REMOVAL_WINDOW = 3 * 86400.0  # replies younger than this are checked for a deletion
REMOVAL_CHECKS = 20  # per sweep, the newest replies
SWEEP_KEY = "discourse:removal-sweep"
REMOVED_KEY = "discourse:removal-seen:{reply_id}"


def _post_text(post: dict[str, Any]) -> str:
    raw = str(post.get("raw") or "")
    title = str(post.get("topic_title") or "").strip()
    return f"{title}\n\n{raw}" if title and int(post.get("post_number") or 0) == 1 else raw


async def sweep_removed(triage: DiscourseTriage, now: float | None = None) -> int:
    """Look for the bot's recent replies that a moderator deleted; each is a negative label.

    Runs at most once per `triage_minutes` (only when triage is configured), one
    `GET /posts/{id}.json` per reply of the last three days (at most REMOVAL_CHECKS). Returns
    how many new removals it found.
    """
    if not triage.enabled:
        return 0
    store, client = triage.store, triage.adapter.client
    now = time.time() if now is None else now
    if now - float(store.kv_get(SWEEP_KEY) or 0) < triage.cfg.triage_minutes * 60:
        return 0
    store.kv_set(SWEEP_KEY, str(now))
    found = 0
    for key, where, reply_id in store.posted_replies(PLATFORM, since=now - REMOVAL_WINDOW)[-REMOVAL_CHECKS:]:
        if not key.startswith("post:") or not reply_id.isdigit():
            continue  # held for approval ("pending:N"), or not a reply to a post
        seen = REMOVED_KEY.format(reply_id=reply_id)
        if store.kv_get(seen):
            continue
        try:
            reply = await client.post(int(reply_id))
            if reply is not None and not reply.get("deleted_at"):
                continue
            original = await client.post(int(key.split(":", 1)[1]))
        except ForumError as exc:
            log.info("discourse: removal check stopped (%s); next sweep continues", exc)
            break
        store.kv_set(seen, "1")
        if original is None or original.get("deleted_at"):
            continue  # the question went too: nothing to learn from
        by = (reply or {}).get("deleted_by") or {}
        labels.record(
            store,
            platform=PLATFORM,
            item_id=key.split(":", 1)[1],
            where=where,
            text=_post_text(original),
            decision="removed",
            decided_by=str(by.get("id") or by.get("username") or ""),
            author_id=str(original.get("user_id") or original.get("username") or ""),
            url=f"{triage.cfg.url}/t/{original.get('topic_slug') or 'topic'}/{where}/{original.get('post_number')}",
        )
        found += 1
        log.info("discourse: my reply %s was deleted; stored as a negative label", reply_id)
    return found


async def label_call(triage: DiscourseTriage, event: Event, decision: Decision, post: dict[str, Any]) -> None:
    """An @mention answered later in a topic whose first post the bot stayed silent on: that first
    post, with the entry the call got, is a positive label."""
    if decision.entry is None or int(post.get("post_number") or 0) <= 1:
        return
    store, client = triage.store, triage.adapter.client
    try:
        topic = await client.topic(int(event.where), include_raw=True)  # the label keeps its text
    except ForumError:
        return
    first = next(iter((topic.get("post_stream") or {}).get("posts") or []), None)
    if first is None or int(first.get("post_number") or 0) != 1:
        return
    first_id = str(first.get("id"))
    if store.claim_state(PLATFORM, f"post:{first_id}") == "posted":
        return  # the bot did answer it
    if not store.decided_items(PLATFORM, [first_id], since=time.time() - REMOVAL_WINDOW):
        return  # not a post the bot saw and stayed silent on
    author = author_of(first, triage.adapter.me)
    if author.is_self or author.is_bot:
        return
    labels.record(
        store,
        platform=PLATFORM,
        item_id=first_id,
        where=event.where,
        text=_post_text({**first, "topic_title": first.get("topic_title") or topic.get("title")}),
        decision="called",
        decided_by=event.author.id,
        entry=decision.entry.id,
        author_id=author.id,
        url=event.url.rsplit("/", 1)[0] + "/1" if event.url else None,
    )
