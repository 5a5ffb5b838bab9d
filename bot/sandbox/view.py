"""A read-only web view of a `SandboxForum`: its topics and every post, Markdown rendered.

`farmhand demo --serve` starts it next to the sandbox so a newcomer can look at the bot's
replies in a browser, as a forum user would see them. It answers GET `/` (every topic, its
posts in order) and nothing else: other paths are 404, other methods 405. Raw HTML in posts
is escaped (markdown-it with `html` off), so a post cannot inject markup into the page.
It runs a stdlib threading HTTP server on its own thread, on 127.0.0.1; port 0 picks a free port.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from markdown_it import MarkdownIt

from bot.sandbox.forum import HTML_COMMENT, SandboxForum

log = logging.getLogger(__name__)

HTML_TYPE = "text/html; charset=utf-8"

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
.topic { border-top: 2px solid #ccc; margin-top: 2rem; }
.post { border-left: 4px solid #ddd; margin: 1rem 0; padding: .2rem 1rem; }
.post.bot { border-left-color: #2a7; background: #f3fbf6; }
.meta { color: #666; font-size: .9rem; }
pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; font-size: .85rem; }
"""


def render_markdown(raw: str) -> str:
    """A post's Markdown as HTML, as Discourse shows it (a newline is a line break).

    Raw HTML in the post is escaped and `javascript:` links are not made links; HTML comments
    (the bot's reply marker) are dropped, as Discourse drops them from `cooked`.
    """
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).render(HTML_COMMENT.sub("", raw))


def render_page(forum: SandboxForum, *, bot_username: str = "farmhand") -> str:
    """The whole page: every topic with its posts, oldest first; the bot's posts marked."""
    topics: dict[int, list[dict[str, Any]]] = {}
    for post in forum.posts():
        topics.setdefault(int(post["topic_id"]), []).append(post)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>farmhand sandbox forum</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>farmhand sandbox forum</h1>",
        f"<p class=meta>Read-only view of the local sandbox forum at {html.escape(forum.url)}. "
        f"Replies by @{html.escape(bot_username)} are the bot's.</p>",
    ]
    for topic_id, posts in sorted(topics.items()):
        first = posts[0]
        kind = "private message" if first["topic_archetype"] == "private_message" else "topic"
        parts.append(f"<section class=topic id=t{topic_id}>")
        parts.append(f"<h2>{html.escape(str(first['topic_title']))}</h2>")
        parts.append(f"<p class=meta>{kind} #{topic_id}</p>")
        for p in posts:
            is_bot = p["username"] == bot_username
            parts.append(f"<article class='post{' bot' if is_bot else ''}' id=p{int(p['id'])}>")
            parts.append(
                f"<p class=meta>#{int(p['post_number'])} by @{html.escape(str(p['username']))}"
                f"{' (automated reply)' if is_bot else ''}</p>"
            )
            parts.append(render_markdown(str(p["raw"])))
            parts.append("</article>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


class ForumView:
    """The read-only web view; `start()` listens on 127.0.0.1, `stop()` closes it."""

    def __init__(self, forum: SandboxForum, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.forum = forum
        self.host = host
        self.port = port
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> ForumView:
        """Listen (port 0: a free port) and serve on a daemon thread."""
        server = ThreadingHTTPServer((self.host, self.port), _make_handler(lambda: render_page(self.forum)))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="forum-view", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def _make_handler(page: Callable[[], str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: str, extra: dict[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", HTML_TYPE)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/":
                self._send(404, "<p>not found: this view has one page, <a href='/'>/</a></p>")
                return
            self._send(200, page())

        do_HEAD = do_GET

        def _refuse(self) -> None:
            self._send(405, "<p>read-only view</p>", {"Allow": "GET, HEAD"})

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        def log_message(self, format: str, *args: object) -> None:
            log.debug("forum view: " + format, *args)

    return Handler
