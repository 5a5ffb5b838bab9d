"""Finding 11: uncaught errors go through the logging setup; bad secrets and URL credentials are config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.bot.faults.conftest import ROOT

TOKEN = "tok-0123456789-abcdef"


def _cli(*args: str, env: dict[str, str], code: str | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FARMHAND_")}
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)


def _forum_cfg(tmp_path, url: str = "http://127.0.0.1:9") -> str:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"state_path: {tmp_path / 's.sqlite3'}\nmode: shadow\ndiscourse:\n  url: {url}\n  api_username: farmhand\n"
    )
    return str(cfg)


def _discord_cfg(tmp_path) -> str:
    cfg = tmp_path / "d.yaml"
    cfg.write_text(f"state_path: {tmp_path / 's.sqlite3'}\nmode: shadow\ndiscord:\n  watch_channels: [1]\n")
    return str(cfg)


@pytest.mark.parametrize("command", [["config", "check"], ["run"]])
@pytest.mark.parametrize(
    "variable,value,which,what",
    [
        ("FARMHAND_DISCOURSE_API_KEY", "ключ-0123456789abcdef", "forum", "non-ASCII"),
        ("FARMHAND_DISCOURSE_API_KEY", "0123456789abcdef\u2019", "forum", "non-ASCII"),
        ("FARMHAND_DISCORD_TOKEN", "abcdef0123456789\nsecond-line", "discord", "newline"),
        ("FARMHAND_DISCOURSE_WEBHOOK_SECRET", "hook-secret\x07bell", "forum", "control"),
    ],
)
def test_unusable_secrets_are_one_line_config_errors(tmp_path, command, variable, value, which, what):
    cfg = _forum_cfg(tmp_path) if which == "forum" else _discord_cfg(tmp_path)
    env = {"FARMHAND_DISCOURSE_API_KEY": "0123456789abcdef"} if which == "forum" else {}
    env[variable] = value
    out = _cli(*command, "-c", cfg, env=env)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and variable in lines[0] and what in lines[0]
    assert "Traceback" not in out.stderr and "ok:" not in out.stdout
    for part in value.split("\n"):
        assert part not in out.stderr + out.stdout


@pytest.mark.parametrize("command", [["config", "check"], ["run"], ["report"]])
def test_a_url_with_credentials_is_refused_and_never_printed(tmp_path, command):
    cfg = _forum_cfg(tmp_path, "https://farmbot:hunter2-pass@forum.example.org")
    out = _cli(*command, "-c", cfg, env={"FARMHAND_DISCOURSE_API_KEY": "0123456789abcdef"})
    assert out.returncode == 2, out
    assert "user name or password" in out.stderr
    assert "hunter2-pass" not in out.stderr + out.stdout and "farmbot" not in out.stderr + out.stdout


def test_a_bad_url_is_echoed_without_its_credentials(tmp_path):
    cfg = _forum_cfg(tmp_path, "ftp://farmbot:hunter2-pass@forum.example.org")
    out = _cli("config", "check", "-c", cfg, env={"FARMHAND_DISCOURSE_API_KEY": "0123456789abcdef"})
    assert out.returncode == 2 and "forum.example.org" in out.stderr
    assert "hunter2-pass" not in out.stderr and "farmbot" not in out.stderr


CRASH = f"""
import sys, threading
import bot.commands.ask as ask
def boom(args):
    t = threading.Thread(target=lambda: (_ for _ in ()).throw(ValueError("thread saw {TOKEN}")), name="worker")
    t.start(); t.join()
    raise RuntimeError("request failed with Authorization: Bot {TOKEN}")
ask.main = boom
from bot.cli import main
sys.exit(main(["--log-format", "json", "ask", "hello"]))
"""


def test_an_uncaught_error_is_json_and_masked():
    out = _cli(env={"FARMHAND_DISCORD_TOKEN": TOKEN}, code=CRASH)
    assert out.returncode == 1, out
    assert TOKEN not in out.stderr
    records = [json.loads(line) for line in out.stderr.splitlines()]  # every line is one JSON object
    msgs = [r["msg"] for r in records]
    assert "uncaught error in thread worker: ValueError" in msgs
    assert "farmhand ask failed: RuntimeError" in msgs
    crash = next(r for r in records if r["msg"].startswith("farmhand ask failed"))
    assert "Authorization: Bot ***" in crash["exc"] and crash["level"] == "critical"


def test_an_exception_outside_the_command_goes_through_the_hook():
    code = (
        "import sys\nfrom bot.logsetup import setup_logging\nsetup_logging('INFO', 'json')\n"
        f"raise OSError('disk said {TOKEN}')\n"
    )
    out = _cli(env={"FARMHAND_DISCOURSE_API_KEY": TOKEN}, code=code)
    assert out.returncode == 1
    (record,) = [json.loads(line) for line in out.stderr.splitlines()]
    assert record["msg"] == "uncaught error: OSError" and "disk said ***" in record["exc"]
