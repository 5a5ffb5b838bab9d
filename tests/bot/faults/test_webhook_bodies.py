"""Finding 10: webhook bodies against a real `farmhand run`: throttled warnings, refusals counted, no 500."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import urllib.error
import urllib.request

import pytest

from bot.ops.webhook_guard import Refused, check_post_created
from tests.bot.faults.conftest import ON_TOPIC, ON_TOPIC_TITLE, polls, start, stop, wait_for, write_config

SECRET = "webhook-secret-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: bytes, *, sign: bool = True, ctype: str = "application/json") -> int:
    headers = {"Content-Type": ctype, "X-Discourse-Event": "post_created", "X-Discourse-Event-Id": "1"}
    if sign:
        headers["X-Discourse-Event-Signature"] = (
            "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        )
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _refused(metrics_text: str) -> float:
    m = re.search(r'farmhand_platform_errors_total\{[^}]*kind="webhook_refused"[^}]*\} (\S+)', metrics_text)
    return float(m[1]) if m else 0.0


ABSURD = [
    (b'{"post": {"id": 1e400, "topic_id": 5}}', "application/json"),
    (b'{"post": {"id": 7, "topic_id": "x"}}', "application/json"),
    (b'{"post": {"id": 7, "topic_id": 5, "post_number": 99999999999999999999999}}', "application/json"),
    (b'{"post": {"id": true, "topic_id": 5}}', "application/json"),
    (b'{"post": {"id": 7, "topic_id": 5, "topic_title": ["a"]}}', "application/json"),
    (b'{"post": [1, 2]}', "application/json"),
    (b"[" * 200_000 + b"]" * 200_000, "application/json"),
    (b'{"post": {"id": 7', "application/json"),
    (b"payload=%7B%22post%22%3A%7B%7D%7D", "application/x-www-form-urlencoded"),
]


def test_webhook_faults_against_a_real_process(forum, tmp_path):
    port = _free_port()
    cfg = write_config(tmp_path, forum.url, extra=f"http:\n  listen: 127.0.0.1:{port}\n")
    proc = start(cfg, forum.api_key, env_over={"FARMHAND_DISCOURSE_WEBHOOK_SECRET": SECRET})
    url = f"http://127.0.0.1:{port}/webhooks/discourse"
    try:
        assert wait_for(lambda: polls(forum) >= 2)
        # A scanner: 50 unsigned requests, one warning line.
        assert {_post(url, b"{}", sign=False) for _ in range(50)} == {401}
        # Signed, but absurd or malformed: 400 each, never 500.
        assert [_post(url, body, ctype=ct) for body, ct in ABSURD] == [400] * len(ABSURD)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert _refused(r.read().decode()) == len(ABSURD)
        # A real delivery from the forum still goes through the guard and gets answered.
        forum.send_webhooks_to(url, SECRET)
        topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
        assert wait_for(lambda: len(forum.posts(topic_id=topic["topic_id"], username="farmhand")) == 1, 10)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "Traceback" not in err and "never retrieved" not in err and " 500" not in err
    assert err.count("signature") == 1, err
    refused_lines = [line for line in err.splitlines() if "refused a signed webhook" in line]
    assert len(refused_lines) == len(ABSURD), err
    assert any("form-encoded" in line for line in refused_lines)
    assert any("post.id" in line for line in refused_lines) and any(
        "post.topic_id" in line for line in refused_lines
    )
    assert all("payload" not in line.split("webhook: ", 1)[1][:20] for line in refused_lines)


@pytest.mark.parametrize("body,ctype", ABSURD)
def test_check_refuses_in_one_line(body, ctype):
    with pytest.raises(Refused) as info:
        check_post_created(body, ctype)
    assert "\n" not in str(info.value) and len(str(info.value)) < 120


def test_check_accepts_a_real_payload(forum):
    topic = forum.create_topic("alice", ON_TOPIC_TITLE, ON_TOPIC)
    post = forum.posts(topic_id=topic["topic_id"])[0]
    assert check_post_created(forum.webhook_payload(post), "application/json")["id"] == post["id"]
    system = json.dumps({"post": {**post, "user_id": -1}}).encode()
    assert check_post_created(system, "application/json; charset=utf-8")["user_id"] == -1
