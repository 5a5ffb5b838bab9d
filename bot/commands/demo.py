"""`farmhand demo`: the whole bot end to end on this machine, with no accounts.

Starts the sandbox forum on loopback, puts an old topic on it (the bot must ignore it),
starts the real service (the same `run_service` as `farmhand run`, real pydiscourse over
HTTP) with a temporary state file, posts the sample topics of `bot/demo/seed.yaml`, and
prints what the bot answered and why for each. Exits 0 once every post is handled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.config import Config, DiscourseConfig
from bot.sandbox import SandboxForum

DEFAULT_SECONDS = 50.0
POLL_SECONDS = 0.5


@dataclass(slots=True)
class Seeded:
    post: dict[str, Any]
    label: str


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


async def _demo(seconds: float, out: Any) -> int:
    from bot.service import run_service

    data = yaml.safe_load(_seed_file("seed.yaml"))
    forum = SandboxForum().start()
    results: dict[int, Any] = {}
    seeded: list[Seeded] = []
    try:
        backlog = seed_backlog(forum, data)
        print(f"sandbox forum on {forum.url}; {len(backlog)} old topic(s) already there", file=out)
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
                print(f"bot started as @farmhand; posted {len(seeded)} sample posts\n", file=out)

            def handled(h: Any) -> None:
                results[h.post_id] = h

            service = asyncio.create_task(run_service(cfg, stop=stop, on_ready=ready, on_handled=handled))
            deadline = time.monotonic() + seconds
            last_public = max(
                (s.post["id"] for s in seeded if s.post["topic_archetype"] != "private_message"), default=0
            )
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
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(service, 15)
    finally:
        forum.stop()
    return _print_results(forum, backlog, seeded, results, out)


def _print_results(
    forum: SandboxForum,
    backlog: list[dict[str, Any]],
    seeded: list[Seeded],
    results: dict[int, Any],
    out: Any,
) -> int:
    bot_posts = forum.posts(username="farmhand")
    for old in backlog:
        answered = any(p["topic_id"] == old["topic_id"] for p in bot_posts)
        print(
            f"- old topic #{old['topic_id']} {old['topic_title']!r}: "
            f"{'ANSWERED (wrong!)' if answered else 'ignored: posted before the bot started'}",
            file=out,
        )
    missing = 0
    for s in seeded:
        p = s.post
        head = f"- post {p['id']} by @{p['username']} ({s.label}) {p['topic_title']!r}"
        h = results.get(p["id"])
        if h is None:
            print(
                f"{head}\n    -> not considered: a reply in a topic the bot has not answered, no mention",
                file=out,
            )
            continue
        what = h.action.upper() + (f" with {h.entry}" if h.entry else "")
        score = f", score {h.score:.2f}" if h.score is not None else ""
        print(f"{head}\n    -> {what}{score}: {h.reason}", file=out)
        if h.posted:
            reply = next((b for b in bot_posts if b["id"] == h.reply_id), None)
            if reply is None:
                missing += 1
                print("    !! the reply is not on the forum", file=out)
            else:
                print(f"    reply #{reply['id']}: {_excerpt(reply['raw'])}", file=out)
    topics = {p["topic_id"] for p in bot_posts}
    targets = [(p["topic_id"], p["reply_to_post_number"]) for p in bot_posts]
    doubles = sorted({t for t in targets if targets.count(t) > 1})
    print(
        f"\n{len(bot_posts)} replies posted in {len(topics)} topics"
        f"{'' if not doubles else f'; ANSWERED TWICE: {doubles}'}",
        file=out,
    )
    handled = sum(1 for s in seeded if s.post["id"] in results)
    return 0 if seeded and handled and not missing and not doubles else 1


def main(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the bot handled the sample forum as expected."""
    seconds = float(getattr(args, "seconds", None) or DEFAULT_SECONDS)
    try:
        return asyncio.run(_demo(seconds, sys.stdout))
    except Exception as exc:  # the demo's error boundary: one line, no traceback
        print(
            f"error: demo failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return 1
