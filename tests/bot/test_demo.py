"""`farmhand demo` end to end: sandbox forum, real bot, real HTTP; exits 0 by itself."""

import argparse
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from bot.commands import demo


def _stories(out: str) -> dict[str, str]:
    """Sample topic title -> its one decision line (`→ ...`)."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r"\d+\. [^\n]* by @\w+: “([^”]+)” ─*\n  @[^\n]*\n  → ([^\n]+)", out)
    }


def test_demo_tells_each_topic_with_the_rendered_reply_and_a_summary(capsys):
    code = demo.main(argparse.Namespace(seconds=40.0))
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out
    assert "ignored: posted before the bot started" in out
    assert "ANSWERED (wrong!)" not in out and "ANSWERED TWICE" not in out
    stories = _stories(out)
    assert stories["Can I farm ThreeFold in a Proxmox VM?"].startswith("answered with “hypervisor-owners” — ")
    assert stories["Terraform deploy of a VM on the grid times out"].startswith("stayed silent — off topic")
    assert stories["Farmerbot does not wake up my nodes"].startswith("stayed silent — ")
    # "is my rented server bare metal?": the entry on rented servers or the one on checking a
    # machine both answer it (the model's chooser has picked each, retrained on more writers)
    hetzner = stories["Is my Hetzner server bare metal? Can I farm on it?"]
    assert hetzner.startswith(("answered and judged the pasted dump with “rented-servers”",
                               "answered and judged the pasted dump with “check-bare-metal”")), hetzner
    assert "dump: virtual" in hetzner
    assert stories["Is my machine good enough?"].startswith("posted a hardware verdict — dump: bare-metal")
    assert "staff member or trusted helper already answered here" in out
    assert "mention: why-decentralization" in out
    # The reply is the whole post, Markdown rendered: no `**`, the `•` lines kept as lines.
    assert "│ Hardware check: this machine looks like bare metal (dell)" in out
    assert "looks virtualized (kvm, hetzner)" in out
    assert "**" not in out
    assert re.search(r"│ • Dedicate the machine\.", out)
    assert "reply #2 by @farmhand" in out
    # Summary table and totals.
    assert re.search(r"│ 7 │ PM: Is my machine good en\S* +│ verdict +│ bare-metal", out)
    assert re.search(r"\n4 replies posted in 4 topics: 3 answered, 4 silent, 2 hardware verdicts", out)
    # The service's log is in a file, not between the story lines.
    assert "INFO bot.audit" not in out and "INFO bot.audit" not in captured.err
    m = re.search(r"The service's log: (\S+)\n", out)
    assert m, out
    log = Path(m.group(1))
    try:
        assert "bot.audit: discourse new_topic" in log.read_text()
    finally:
        log.unlink()


def test_demo_serve_shows_topics_and_replies_on_a_loopback_web_page(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = None
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if m := re.match(r"Web view of the sandbox forum: (http://127\.0\.0\.1:\d+/)$", line.rstrip()):
                url = m.group(1)
                break
        assert url, "".join(lines) + (proc.stderr.read() if proc.poll() is not None else "")
        resp = requests.get(url, timeout=10)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        page = resp.text
        assert "<h2>Can I farm ThreeFold in a Proxmox VM?</h2>" in page
        # the bot's reply, Markdown rendered, marked as the bot's
        assert "(automated reply)" in page
        assert "<strong>Hardware check:</strong> this machine looks" in page
        assert "**Hardware check:**" not in page
        assert "<strong>Got a Proxmox" in page
        # read-only: writes are refused
        assert requests.post(url, data={"raw": "hello"}, timeout=10).status_code == 405
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
