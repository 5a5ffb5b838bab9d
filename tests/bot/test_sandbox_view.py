"""The read-only web view of the sandbox forum (`farmhand demo --serve`)."""

import requests

from bot.sandbox import SandboxForum
from bot.sandbox.view import ForumView, render_markdown


def test_markdown_is_rendered_and_raw_html_is_escaped():
    html = render_markdown("**bold** line\nnext line\n<script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>bold</strong> line<br />" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html


def test_view_serves_topics_and_refuses_writes_and_other_paths():
    with SandboxForum() as forum:
        forum.add_user("alice")
        forum.add_user("farmhand", moderator=True)
        topic = forum.create_topic("alice", "Can I farm in a <VM>?", "Asking **nicely**")
        forum.reply("farmhand", topic["topic_id"], "No: a VM earns **no** rewards.")
        view = ForumView(forum).start()
        try:
            assert view.url.startswith("http://127.0.0.1:")
            page = requests.get(view.url, timeout=5).text
            assert "<h2>Can I farm in a &lt;VM&gt;?</h2>" in page
            assert "a VM earns <strong>no</strong> rewards." in page
            assert page.index("@alice") < page.index("@farmhand (automated reply)")
            assert requests.post(view.url, data={"raw": "x"}, timeout=5).status_code == 405
            assert requests.delete(view.url, timeout=5).status_code == 405
            assert requests.get(view.url + "t/1", timeout=5).status_code == 404
        finally:
            view.stop()
