"""Logging: JSON lines with extra fields, key=value text, and secrets masked everywhere."""

from __future__ import annotations

import json
import logging

from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY
from bot.logsetup import MASK, setup_logging

KEY = "a1b2c3d4e5f6-discourse-key"
TOKEN = "MTIzNDU2.discord.token-value"


def _emit(monkeypatch, capsys, fmt: str) -> str:
    monkeypatch.setenv(ENV_DISCOURSE_KEY, KEY)
    monkeypatch.setenv(ENV_DISCORD_TOKEN, TOKEN)
    setup_logging("INFO", fmt)
    log = logging.getLogger("farmhand.test")
    log.info(
        "decision %s: %s",
        "answer",
        "on topic",
        extra={"fields": {"platform": "discourse", "item": "9105", "entry": "vm-farming", "score": 0.93}},
    )
    log.warning("request failed: Api-Key %s rejected", KEY)
    try:
        raise RuntimeError(f"401 for Authorization: Bot {TOKEN}")
    except RuntimeError:
        log.exception("discord: login failed")
    logging.getLogger("farmhand.test").debug("hidden at INFO")
    return capsys.readouterr().err


def test_json_lines_carry_fields_and_mask_secrets(monkeypatch, capsys):
    err = _emit(monkeypatch, capsys, "json")
    lines = [json.loads(line) for line in err.splitlines()]
    assert len(lines) == 3  # one line per record, tracebacks inside the object
    first = lines[0]
    assert first["msg"] == "decision answer: on topic" and first["level"] == "info"
    assert (first["platform"], first["item"], first["entry"], first["score"]) == (
        "discourse",
        "9105",
        "vm-farming",
        0.93,
    )
    assert lines[1]["msg"] == f"request failed: Api-Key {MASK} rejected"
    assert "RuntimeError" in lines[2]["exc"] and MASK in lines[2]["exc"]
    assert KEY not in err and TOKEN not in err


def test_text_lines_append_fields_and_mask_secrets(monkeypatch, capsys):
    err = _emit(monkeypatch, capsys, "text")
    first = err.splitlines()[0]
    assert first.endswith(
        "farmhand.test: decision answer: on topic platform=discourse item=9105 entry=vm-farming score=0.93"
    )
    assert f"Api-Key {MASK} rejected" in err
    assert KEY not in err and TOKEN not in err and "hidden at INFO" not in err
