"""`farmhand train --with-labels`: community labels that flip a look-alike class, before/after figures,
refusal of a worse model, a state file as the source, and the service loading the written model."""

from __future__ import annotations

import asyncio
import json

import pytest

import knowledge
from bot import labels
from bot.cli import main as cli
from bot.config import parse_config
from bot.service import StartupError, run_service
from bot.state import Store

pytest.importorskip("sklearn")
pytestmark = pytest.mark.timeout(120)

# Farming Simulator (a video game) servers in VMs: the shipped model answers them ("farm", "VM",
# "VPS"); a gaming community's moderators keep pressing Not this.
GAME_POSTS = [
    "can I run a farming simulator 22 dedicated server in a VM on proxmox?",
    "Farming Simulator 25 server on my VPS keeps lagging, how much RAM for 16 players?",
    "hosting a farming simulator dedicated server in a hyper-v vm, mods won't load",
    "anyone running the FS22 farming simulator server in docker on a vps?",
    "farming simulator multiplayer server in a virtual machine, ports to open?",
    "my farming simulator farm save got wiped on the VPS after a reboot",
    "which VPS provider is best for a Farming Simulator dedicated server?",
    "Farming Simulator server in an ESXi VM: can the farm earn money while I'm offline?",
]
FRESH = "farming simulator server in a VM on my unraid box, is 8GB enough?"
REAL = "can I run a zos node in a proxmox VM and still earn farming rewards?"


@pytest.fixture
def state(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    for i, text in enumerate(GAME_POSTS):
        labels.record(store, platform="discord", item_id=str(1000 + i), text=text, decision="not_this",
                      decided_by="mod", entry="vm-farming", author_id=f"gamer{i}")
    store.close()
    return tmp_path / "state.sqlite3"


def test_labels_flip_a_look_alike_class(state, tmp_path, capsys):
    assert knowledge.default_kb().match(FRESH).on_topic, "the shipped model answers the look-alike"
    out = tmp_path / "community.json"
    assert cli(["train", "--with-labels", str(state), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "labels 8 (7 fitted, 1 held back)" in printed
    assert "shipped test split (" in printed and "before precision" in printed and "after  precision" in printed
    assert "held-back labels: before 0/1 agree, after 1/1 agree" in printed
    assert f"wrote {out}" in printed
    kb = knowledge.load(model_path=out)
    fresh = kb.match(FRESH)
    assert not fresh.on_topic and fresh.band != "sure", "the refitted model stays silent on the class"
    assert kb.match(REAL).on_topic, "and still answers the real question"
    assert json.loads(out.read_text())["meta"]["community_labels"] == {"fitted": 7, "held_back": 1}

    # the service loads it through matcher.model_path (a broken file stops start-up with its name)
    cfg = parse_config(f"state_path: {tmp_path / 's.sqlite3'}\nmatcher:\n  model_path: {out}\n", env={})
    assert cfg.model_path == out
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": 1}', encoding="utf-8")
    cfg = parse_config(
        f"state_path: {tmp_path / 's.sqlite3'}\nmatcher:\n  model_path: {bad}\n"
        "discourse: {url: 'http://127.0.0.1:9', api_username: fh}\n",
        env={"FARMHAND_DISCOURSE_API_KEY": "k" * 20},
    )
    with pytest.raises(StartupError, match=r"broken\.json"):
        asyncio.run(run_service(cfg, stop=asyncio.Event()))


def test_a_worse_model_is_refused_and_not_written(state, tmp_path, capsys):
    out = tmp_path / "small.json"
    # 300 shipped examples only: clearly worse than the shipped model on the test split
    assert cli(["train", "--with-labels", str(state), "--out", str(out), "--limit", "300"]) == 1
    err = capsys.readouterr().err
    assert "worse on the shipped test split" in err and "not written" in err
    assert not out.exists()


def test_with_labels_needs_out_and_labels(state, tmp_path, capsys):
    assert cli(["train", "--with-labels", str(state)]) == 2
    assert "needs --out" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert cli(["train", "--with-labels", str(empty), "--out", str(tmp_path / "m.json"), "--limit", "50"]) == 2
    assert "no labels" in capsys.readouterr().err
