"""`farmhand demo [--serve]`: the whole bot end to end on this machine, with no accounts.

Starts the sandbox forum on loopback, puts an old topic on it (the bot must ignore it),
starts the real service (the same `run_service` as `farmhand run`, real pydiscourse over
HTTP) with a temporary state file, posts the sample topics of `bot/demo/seed.yaml`, and
tells the story on the terminal: per post what the bot decided and why in one line, the
reply rendered as the forum would show it (Markdown, via rich), then a summary table. The
service's log goes to a file whose path is printed at the end. Exits 0 once every post is
handled as expected; with `--serve` it then keeps the sandbox forum and a read-only web
view of it (`bot/sandbox/view.py`) running on 127.0.0.1 until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.config import Config, DiscourseConfig
from bot.sandbox import SandboxForum

DEFAULT_SECONDS = 50.0
POLL_SECONDS = 0.5

# action -> what the bot did, in words
_DID = {
    "answer": "answered",
    "verdict": "posted a hardware verdict",
    "answer_and_verdict": "answered and judged the pasted dump",
    "ask_for_dump": "asked for a hardware dump",
    "help": "replied with short help",
    "silent": "stayed silent",
}


# action -> the same, in the summary table
_SHORT = {
    "answer": "answered",
    "verdict": "verdict",
    "answer_and_verdict": "answer + verdict",
    "ask_for_dump": "asked for dump",
    "help": "help",
    "silent": "silent",
}


@dataclass(slots=True)
class Seeded:
    post: dict[str, Any]
    label: str


@dataclass(slots=True)
class DemoRun:
    """What one run of the demo produced, for the story, the summary and `--serve`."""

    forum: SandboxForum
    backlog: list[dict[str, Any]]
    seeded: list[Seeded]
    results: dict[int, Any]  # post id -> Handled
    verdicts: dict[int, str]  # post id -> verdict kind, from the audit log


def _seed_file(name: str) -> str:
    return resources.files("bot.demo").joinpath(name).read_text(encoding="utf-8")


def _text(item: dict[str, Any]) -> str:
    text = str(item.get("text", "")).rstrip()
    if item.get("dump"):
        text += "\n\n```\n" + _seed_file(str(item["dump"])).rstrip() + "\n```\n"
    return text


def seed_backlog(forum: SandboxForum, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Users and the posts that exist before the bot starts."""
    for u in data.get("users", []):
        forum.add_user(u["username"], moderator=bool(u.get("moderator")), admin=bool(u.get("admin")))
    return [forum.create_topic(b["user"], b["title"], _text(b)) for b in data.get("backlog", [])]


def seed_live(forum: SandboxForum, data: dict[str, Any]) -> list[Seeded]:
    """Post the live sample topics, replies, mention and PM; returns them in order."""
    out: list[Seeded] = []
    for item in data.get("live", []):
        if "reply_to" in item:
            topic_id = out[int(item["reply_to"]) - 1].post["topic_id"]
            post = forum.reply(item["user"], topic_id, _text(item))
            label = f"reply in topic {topic_id}"
        elif item.get("private_to"):
            post = forum.create_topic(
                item["user"], item["title"], _text(item), private_to=[item["private_to"]]
            )
            label = f"private message to @{item['private_to']}"
        else:
            post = forum.create_topic(item["user"], item["title"], _text(item))
            label = "new topic"
        out.append(Seeded(post, label))
    return out


def _excerpt(raw: str, width: int = 100) -> str:
    first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
    return textwrap.shorten(first, width=width, placeholder="…")


@contextlib.contextmanager
def _log_to_file(path: Path) -> Iterator[None]:
    """Send every log record (INFO and up, or DEBUG if asked) to `path` instead of the terminal."""
    from bot.logsetup import SecretMasker, TextFormatter, secrets_from_env

    root = logging.getLogger()
    saved, saved_level = root.handlers[:], root.level
    root.setLevel(min(saved_level or logging.INFO, logging.INFO))  # the file always has the INFO story
    handler = logging.FileHandler(path, encoding="utf-8")
    # The CLI's formatter (text or json, secrets masked) if it set one up, else the text one.
    fmt = next((h.formatter for h in saved if isinstance(h.formatter, SecretMasker)), None)
    handler.setFormatter(fmt or SecretMasker(TextFormatter(), secrets_from_env()))
    root.handlers[:] = [handler]
    try:
        yield
    finally:
        root.handlers[:] = saved
        root.setLevel(saved_level)
        handler.close()


async def _demo(seconds: float, forum: SandboxForum) -> DemoRun:
    from bot.service import run_service

    data = yaml.safe_load(_seed_file("seed.yaml"))
    results: dict[int, Any] = {}
    verdicts: dict[int, str] = {}
    seeded: list[Seeded] = []
    backlog = seed_backlog(forum, data)
    with tempfile.TemporaryDirectory(prefix="farmhand-demo-") as tmp:
        cfg = Config(
            state_path=Path(tmp) / "state.sqlite3",
            mode="live",
            discourse=DiscourseConfig(
                url=forum.url,
                api_username="farmhand",
                api_key=forum.api_key,
                poll_seconds=POLL_SECONDS,
                request_timeout=5.0,
            ),
            source="<demo>",
        )
        stop = asyncio.Event()
        running: list[Any] = []

        def ready(r: Any) -> None:
            running.append(r)
            # Seeded synchronously, before the poller first runs: one batch, deterministic.
            seeded.extend(seed_live(forum, data))

        def handled(h: Any) -> None:
            results[h.post_id] = h

        service = asyncio.create_task(run_service(cfg, stop=stop, on_ready=ready, on_handled=handled))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not service.done():
            await asyncio.sleep(0.1)
            if running and seeded:
                store = running[0].store
                last_public = max(
                    (s.post["id"] for s in seeded if s.post["topic_archetype"] != "private_message"),
                    default=0,
                )
                last_private = max(
                    (s.post["id"] for s in seeded if s.post["topic_archetype"] == "private_message"),
                    default=0,
                )
                if (
                    int(store.get_cursor("discourse:posts") or 0) >= last_public
                    and int(store.get_cursor("discourse:private_posts") or 0) >= last_private
                ):
                    break
        if running:
            for rec in running[0].store.decisions_since(datetime(2000, 1, 1, tzinfo=UTC)):
                if rec.verdict and str(rec.item_id).isdigit():
                    verdicts[int(rec.item_id)] = rec.verdict
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(service, 15)
    return DemoRun(forum, backlog, seeded, results, verdicts)


def _topic(post: dict[str, Any], label: str) -> str:
    where = "PM: " if label.startswith("private") else "reply: " if label.startswith("reply") else ""
    return where + str(post["topic_title"])


def decision_line(h: Any) -> str:
    """What the bot decided about one post and why, in one line."""
    did = _DID.get(h.action, h.action)
    entry = f" with “{h.entry}”" if h.entry and h.action in ("answer", "answer_and_verdict") else ""
    return f"{did}{entry} — {h.reason}"


def forum_markdown(raw: str, *, hyperlinks: bool) -> Any:
    """A rich renderable of a post as Discourse shows it: Markdown, and every newline a line break.

    Discourse renders a single newline as a line break (CommonMark joins the lines), and the
    bot's replies rely on it for their `•` lists.
    """
    from rich.markdown import Markdown

    from bot.sandbox.forum import HTML_COMMENT

    md = Markdown(HTML_COMMENT.sub("", raw).rstrip(), hyperlinks=hyperlinks)  # Discourse hides comments
    for token in md.parsed:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
    return md


def tell(run: DemoRun, console: Any, log_path: Path | None) -> int:
    """Print the story of the run: each post, the decision, the rendered reply; then the summary."""
    from rich.panel import Panel
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    forum = run.forum
    bot_posts = forum.posts(username="farmhand")
    hyperlinks = bool(console.is_terminal)
    console.print(f"Sandbox forum on {forum.url}; the bot runs as @farmhand and watches it.", soft_wrap=True)
    answered_old = 0
    for old in run.backlog:
        answered = any(p["topic_id"] == old["topic_id"] for p in bot_posts)
        answered_old += answered
        console.print(
            f"Old topic “{old['topic_title']}”: "
            + ("ANSWERED (wrong!)" if answered else "ignored: posted before the bot started"),
            soft_wrap=True,
            markup=False,
        )
    missing = 0
    rows: list[tuple[str, str, str, str]] = []
    for n, s in enumerate(run.seeded, 1):
        p = s.post
        console.print()
        console.print(Rule(Text(f"{n}. {s.label} by @{p['username']}: “{p['topic_title']}”"), align="left"))
        console.print(
            f"  @{p['username']}: {_excerpt(p['raw'])}", highlight=False, markup=False, soft_wrap=True
        )
        h = run.results.get(p["id"])
        if h is None:
            line = "not considered: a reply in a topic the bot has not answered, no mention"
            console.print(f"  → {line}", highlight=False, markup=False, soft_wrap=True)
            rows.append((str(n), _topic(p, s.label), "not considered", ""))
            continue
        console.print(f"  → {decision_line(h)}", highlight=False, markup=False, soft_wrap=True)
        verdict = run.verdicts.get(p["id"], "")
        entry = h.entry if h.action in ("answer", "answer_and_verdict") else None
        rows.append(
            (
                str(n),
                _topic(p, s.label),
                _SHORT.get(h.action, h.action),
                ", ".join(x for x in (entry, verdict) if x),
            )
        )
        if h.posted:
            reply = next((b for b in bot_posts if b["id"] == h.reply_id), None)
            if reply is None:
                missing += 1
                console.print("  !! the reply is not on the forum", soft_wrap=True)
            else:
                console.print(
                    Panel(
                        forum_markdown(reply["raw"], hyperlinks=hyperlinks),
                        title=f"reply #{reply['post_number']} by @farmhand",
                        title_align="left",
                        padding=(0, 1),
                    )
                )
    topics = {p["topic_id"] for p in bot_posts}
    targets = [(p["topic_id"], p["reply_to_post_number"]) for p in bot_posts]
    doubles = sorted({t for t in targets if targets.count(t) > 1})

    console.print()
    table = Table(title="Summary", title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("topic", overflow="ellipsis", no_wrap=True, max_width=28)
    table.add_column("the bot", no_wrap=True)
    table.add_column("entry, verdict", overflow="ellipsis", no_wrap=True, max_width=20)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    actions = [h.action for h in run.results.values()]
    n_answered = sum(a in ("answer", "answer_and_verdict", "ask_for_dump", "help") for a in actions)
    n_silent = sum(a == "silent" for a in actions)
    console.print(
        f"{len(bot_posts)} replies posted in {len(topics)} topics: "
        f"{n_answered} answered, {n_silent} silent, {len(run.verdicts)} hardware verdicts, "
        f"{len(run.seeded) - len(run.results)} not considered, "
        f"{len(run.backlog) - answered_old} old topic(s) ignored"
        + (f"; ANSWERED TWICE: {doubles}" if doubles else ""),
        soft_wrap=True,
    )
    if log_path is not None:
        console.print(f"The service's log: {log_path}", highlight=False, soft_wrap=True)
    handled = len(run.results)
    return 0 if run.seeded and handled and not missing and not doubles and not answered_old else 1


def serve(forum: SandboxForum, console: Any, out: Any, port: int = 0) -> None:
    """Keep the sandbox forum up with its read-only web view until Ctrl-C."""
    from bot.sandbox.view import ForumView

    view = ForumView(forum, port=port).start()
    try:
        console.print()
        console.print(f"Web view of the sandbox forum: {view.url}", highlight=False, soft_wrap=True)
        console.print(f"(forum API: {forum.url}) Ctrl-C to stop.", highlight=False, soft_wrap=True)
        out.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        view.stop()


def main(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the bot handled the sample forum as expected."""
    from rich.console import Console

    seconds = float(getattr(args, "seconds", None) or DEFAULT_SECONDS)
    out = sys.stdout
    console = Console(file=out, highlight=False)
    fd, name = tempfile.mkstemp(prefix="farmhand-demo-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    forum = SandboxForum().start()
    try:
        try:
            with _log_to_file(log_path):
                run = asyncio.run(_demo(seconds, forum))
        except Exception as exc:  # the demo's error boundary: one line, no traceback
            first = str(exc).splitlines()[0] if str(exc) else ""
            print(f"error: demo failed: {type(exc).__name__}: {first} (log: {log_path})", file=sys.stderr)
            return 1
        code = tell(run, console, log_path)
        if getattr(args, "serve", False):
            serve(forum, console, out, int(getattr(args, "port", 0) or 0))
        return code
    finally:
        forum.stop()
