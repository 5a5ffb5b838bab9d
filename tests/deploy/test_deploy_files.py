"""deploy/: the systemd unit, the container image, compose, and the example config and env."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import config as config_mod
from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, ENV_DISCOURSE_WEBHOOK, parse_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit as section -> [(key, value)] (keys may repeat, so no configparser)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"directive outside a section: {line}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def _values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


# --- systemd -----------------------------------------------------------------------------


def test_unit_runs_as_dedicated_user_with_state_dir_and_hardening():
    unit = _unit(DEPLOY / "farmhand.service")
    svc = unit["Service"]
    expect = {
        "User": "farmhand",
        "Group": "farmhand",
        "StateDirectory": "farmhand",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "Restart": "on-failure",
        "EnvironmentFile": "/etc/farmhand/farmhand.env",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
        # Above the HTTP listener's max_connections + backlog + the bot's own sockets and files.
        "LimitNOFILE": "8192",
    }
    for key, value in expect.items():
        assert _values(svc, key) == [value], f"{key}: {_values(svc, key)}"
    assert "multi-user.target" in _values(unit["Install"], "WantedBy")


def test_unit_runs_the_cli_contract_and_checks_config_first():
    svc = _unit(DEPLOY / "farmhand.service")["Service"]
    (start,) = _values(svc, "ExecStart")
    (pre,) = _values(svc, "ExecStartPre")
    argv = start.split()
    assert argv[argv.index("run") :] == ["run", "-c", "/etc/farmhand/config.yaml"]
    assert "--log-format" in argv and argv[argv.index("--log-format") + 1] == "json"
    assert pre.split()[1:] == ["config", "check", "-c", "/etc/farmhand/config.yaml"]
    # The state the config example points at is the directory systemd creates.
    cfg = yaml.safe_load((DEPLOY / "config.example.yaml").read_text(encoding="utf-8"))
    assert cfg["state_path"].startswith("/var/lib/farmhand/")


def test_unit_secrets_never_inline():
    text = (DEPLOY / "farmhand.service").read_text(encoding="utf-8")
    for var in (ENV_DISCOURSE_KEY, ENV_DISCORD_TOKEN, ENV_DISCOURSE_WEBHOOK):
        assert not re.search(rf"^\s*Environment=.*{var}", text, re.M)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify insists the ExecStart binaries exist; point them at one that does.
    true_bin = shutil.which("true")
    assert true_bin
    text = (DEPLOY / "farmhand.service").read_text(encoding="utf-8")
    text = text.replace("/opt/farmhand/bin/farmhand", true_bin)
    unit = tmp_path / "farmhand.service"
    unit.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    out = (proc.stdout + proc.stderr).strip()
    own = [line for line in out.splitlines() if "farmhand.service" in line]
    assert proc.returncode == 0 and not own, out


def test_sysusers_snippet_declares_the_same_user():
    lines = [
        ln.split()
        for ln in (DEPLOY / "farmhand.sysusers").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines and lines[0][:2] == ["u", "farmhand"]
    assert "/var/lib/farmhand" in lines[0]


# --- container ---------------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """Dockerfile instructions with continuation lines joined."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#") and not buf:
            continue
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        line = (buf + raw).strip()
        buf = ""
        if line:
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_slim_base_non_root_volume():
    ins = _dockerfile()
    assert ins[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in ins if op == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    # Nothing runs as root after the switch.
    last_user = max(i for i, (op, _) in enumerate(ins) if op == "USER")
    assert not any(op == "RUN" for op, _ in ins[last_user:])
    volumes = [json.loads(arg) for op, arg in ins if op == "VOLUME"]
    assert ["/var/lib/farmhand"] in volumes
    entry = json.loads(next(arg for op, arg in ins if op == "ENTRYPOINT"))
    cmd = json.loads(next(arg for op, arg in ins if op == "CMD"))
    assert entry[0] == "farmhand" and cmd[0] == "run"


def test_dockerfile_copies_only_what_exists_and_is_not_ignored():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    allowed = {ln[1:].removesuffix("/**") for ln in ignore.splitlines() if ln.startswith("!")}
    for op, arg in _dockerfile():
        if op == "COPY" and not arg.startswith("--"):
            for src in arg.split()[:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: missing"
                assert src.rstrip("/") in allowed, f"COPY {src}: excluded by Dockerfile.dockerignore"


def _healthcheck_script() -> str:
    arg = next(arg for op, arg in _dockerfile() if op == "HEALTHCHECK")
    assert "curl" not in arg and "wget" not in arg
    cmd = json.loads(arg[arg.index("CMD") + 3 :].strip())
    assert cmd[:2] == ["python", "-c"]
    return cmd[2]


async def test_dockerfile_healthcheck_follows_healthz():
    """Run the image's HEALTHCHECK command against the real listener: 0 healthy, 1 not."""
    from bot.config import HttpConfig
    from bot.ops.health import Health
    from bot.web import bound_port, start_http

    health = Health()
    health.register("discourse")
    runner = await start_http(HttpConfig(port=0), health)
    script = _healthcheck_script().replace("127.0.0.1:8080", f"127.0.0.1:{bound_port(runner)}")

    async def probe() -> int:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script)
        return await asyncio.wait_for(proc.wait(), 30)

    try:
        assert await probe() == 1  # registered, never connected: 503
        health.ok("discourse")
        assert await probe() == 0
    finally:
        await runner.cleanup()
    assert await probe() == 1  # nothing listening any more


def test_compose_file_wires_volume_env_config_and_loopback_port():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    svc = compose["services"]["farmhand"]
    context = (DEPLOY / svc["build"]["context"]).resolve()
    assert context == ROOT and (context / svc["build"]["dockerfile"]).is_file()
    assert svc["env_file"] == [".env"]
    vols = svc["volumes"]
    named = [v for v in vols if v.split(":")[1] == "/var/lib/farmhand"]
    assert named and named[0].split(":")[0] in compose["volumes"]
    assert any(v.split(":")[1] == "/etc/farmhand/config.yaml" and v.endswith(":ro") for v in vols)
    assert all(p.startswith("127.0.0.1:") for p in svc["ports"])
    assert svc["read_only"] is True and "ALL" in svc["cap_drop"]
    assert svc["restart"] in ("unless-stopped", "always", "on-failure")


# --- config and env examples -------------------------------------------------------------

DUMMY_ENV = {ENV_DISCOURSE_KEY: "dummy-key", ENV_DISCORD_TOKEN: "dummy.token"}


def test_config_example_loads():
    text = (DEPLOY / "config.example.yaml").read_text(encoding="utf-8")
    cfg = parse_config(text, source="config.example.yaml", env=DUMMY_ENV)
    assert cfg.shadow, "the example starts in shadow mode"
    assert cfg.discourse is not None and cfg.discord is not None and cfg.http is not None
    assert cfg.http.host == "127.0.0.1"


def test_config_example_documents_every_key():
    """Every key the loader accepts is set (and so shown) in the example, with a comment above it."""
    data = yaml.safe_load((DEPLOY / "config.example.yaml").read_text(encoding="utf-8"))
    assert set(data) == config_mod._TOP_KEYS
    assert set(data["discourse"]) == config_mod._DISCOURSE_KEYS
    assert set(data["discord"]) == config_mod._DISCORD_KEYS
    assert set(data["http"]) == config_mod._HTTP_KEYS
    lines = (DEPLOY / "config.example.yaml").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s*([a-z_]+):", line)
        if m and not line.lstrip().startswith("#"):
            assert i > 0 and lines[i - 1].lstrip().startswith("#"), f"line {i + 1}: {m[1]} has no comment"


def test_env_example_has_the_three_secrets_empty():
    pairs = [
        ln.split("=", 1)
        for ln in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert sorted(k for k, _ in pairs) == sorted(
        [ENV_DISCOURSE_KEY, ENV_DISCOURSE_WEBHOOK, ENV_DISCORD_TOKEN]
    )
    assert all(v == "" for _, v in pairs)
