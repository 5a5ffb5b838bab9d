"""Real `farmhand run` processes against the sandbox forum on loopback, with faults injected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.sandbox import SandboxForum
from tests.bot.discourse.conftest import make_adapter  # noqa: F401 (a fixture: an adapter on `forum`)

ROOT = Path(__file__).resolve().parents[3]
ON_TOPIC_TITLE = "Can I farm ThreeFold in a Proxmox VM?"
ON_TOPIC = (
    "I have a Proxmox server at home. Can I run a Zero OS node in a VM on it and still earn farming rewards?"
)


@pytest.fixture
def forum():
    f = SandboxForum(api_key="test-key").start()
    f.add_user("farmhand", moderator=True)
    f.add_user("alice")
    yield f
    f.stop()


def write_config(tmp_path: Path, url: str, *, extra: str = "", state: Path | None = None) -> Path:
    """A live forum-only config polling fast; `extra` is appended YAML."""
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {state or tmp_path / 'state' / 'state.sqlite3'}\n"
        "mode: live\n"
        "discourse:\n"
        f"  url: {url}\n"
        "  api_username: farmhand\n"
        "  poll_seconds: 0.1\n"
        "  request_timeout: 10\n" + extra
    )
    return cfg


def start(
    cfg: Path, key: str | None, *args: str, env_over: dict[str, str] | None = None, preexec=None
) -> subprocess.Popen:
    """`python -m bot.cli [args] run -c CFG` with only the secrets given here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARMHAND_")}
    if key is not None:
        env["FARMHAND_DISCOURSE_API_KEY"] = key
    env.update(env_over or {})
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args, "run", "-c", str(cfg)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,  # only resource limits, set before exec
    )


def wait_for(pred, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return bool(pred())


def polls(forum: SandboxForum) -> int:
    return sum(1 for m, p, _s in list(forum.requests) if m == "GET" and p == "/posts.json")


def exit_of(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, str]:
    """Wait for a process that should end by itself; its exit code and stderr (killed if not)."""
    try:
        _out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM (if still running) and collect the exit code and stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return proc.returncode, err
