"""The matcher: golden questions, our own labelled posts, look-alikes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import knowledge
from knowledge.evaluate import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "questions"
GOLDEN = yaml.safe_load((FIXTURES / "golden.yaml").read_text(encoding="utf-8"))
POSTS = [json.loads(line) for line in (FIXTURES / "posts.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.default_kb()


@pytest.mark.parametrize("case", GOLDEN, ids=[g["text"][:40] for g in GOLDEN])
def test_golden_question_picks_expected_entry(kb, case):
    """Entry choice on every golden question; the support-only ones must stay silent.

    The trained matcher's precision-first threshold leaves some golden questions in the
    abstain band (silent on auto-replies, answered on explicit calls), so "on topic" is
    asserted for the must-stay-silent cases only; recall is measured by the floors below.
    """
    m = kb.match(case["text"])
    expected = case["entry"] if isinstance(case["entry"], list) else [case["entry"]]
    assert m.candidate in expected, m.reasons
    if case.get("on_topic", True) is False:
        assert m.on_topic is False, (m.score, m.reasons)
    if m.on_topic:
        assert m.entry == m.candidate
    else:
        assert m.entry is None


def test_own_posts_precision_and_recall(kb):
    figures = score(POSTS, [kb.match(p["text"]) for p in POSTS])
    assert figures.fp == 0, [m.text for m in figures.false_positives]
    # trained on (in-sample); the cue rules scored >= 0.9 here, the model 0.78 (precision first)
    assert figures.recall >= 0.75, [m.text for m in figures.false_negatives]


def _posts(name: str) -> list[dict[str, str]]:
    # "questions-heldout/posts.jsonl" lives next to our own fixtures directory
    path = FIXTURES.parent / name if "/" in name else FIXTURES / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Floors per fixture file. Every one of these files is training data of the matcher model
# now (knowledge/train.py), so these are in-sample checks: precision must stay at 1.000 as
# measured, recall is what the precision-first threshold leaves (model v6: posts 0.915,
# blind 0.941, blind2 0.909, subject 0.950, classes2 0.933, heldout 0.947, heldout2 0.873,
# heldout3 0.700, heldout4 0.900). Floors sit a little under, so a retrain may move a post
# or two; the held-out figures are in docs/knowledge.md (model card).
FLOORS = {
    "posts.jsonl": (0.95, 0.88),
    "posts-blind.jsonl": (0.95, 0.90),
    "posts-blind2.jsonl": (0.95, 0.85),
    "posts-subject.jsonl": (0.95, 0.85),
    "posts-classes2.jsonl": (0.95, 0.85),
    "questions-heldout/posts.jsonl": (0.95, 0.84),
}
HELDOUT_FLOORS = {
    "questions-heldout2/posts.jsonl": (0.95, 0.80),
    "questions-heldout3/posts.jsonl": (0.95, 0.65),
    "questions-heldout4/posts.jsonl": (0.95, 0.86),
}


@pytest.mark.parametrize("name", sorted(FLOORS | HELDOUT_FLOORS))
def test_fixture_file_precision_recall_floors(kb, name):
    posts = _posts(name)
    figures = score(posts, [kb.match(p["text"]) for p in posts])
    min_precision, min_recall = (FLOORS | HELDOUT_FLOORS)[name]
    assert figures.precision >= min_precision, [m.text for m in figures.false_positives]
    assert figures.recall >= min_recall, [m.text for m in figures.false_negatives]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_hard_negatives_in_fixtures_never_answered(kb, name):
    """Precision 1.0 on the look-alikes we wrote ourselves: a wrong auto-reply is spam."""
    negatives = [p for p in _posts(name) if p["label"] != "vm_farming"]
    assert len(negatives) >= 20
    answered = [p["id"] for p in negatives if kb.match(p["text"]).on_topic]
    assert answered == []


@pytest.mark.parametrize(
    "text",
    [
        # multilingual "node in a virtual machine" (nl, tr, id, it, pt)
        "Kan ik mijn ThreeFold node in een virtuele machine draaien?",
        "ThreeFold node'u sanal makinede çalıştırabilir miyim?",
        "Bisa farming ThreeFold di mesin virtual?",
        "Posso fare farming con un nodo ThreeFold su una macchina virtuale?",
        "Dá para rodar um nó de farming ThreeFold em servidor virtual?",
        # a report: node in a VM, earns nothing
        "My node runs on KVM and the rewards are 0 after a month, why?",
    ],
)
def test_unseen_phrasings_are_answered(kb, text):
    m = kb.match(text)
    assert m.band in ("sure", "unsure") and m.candidate is not None, (m.score, m.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Proxmox cluster with 3 nodes: Ceph reports slow ops",
        "node offline since Monday, rewards are 0 this period",
        "My node shows virtualized: no on the dashboard, all good?",
        "What's the cheapest Ubuntu VM on ThreeFold for a website?",
    ],
)
def test_proximity_and_report_rules_keep_quiet_on_look_alikes(kb, text):
    m = kb.match(text)
    assert m.on_topic is False, (m.score, m.reasons)


def test_fixture_set_is_big_and_has_hard_negatives():
    assert len(POSTS) >= 80
    assert sum(p["label"] == "other" for p in POSTS) >= 40


@pytest.mark.parametrize(
    "text",
    [
        "How do I deploy a full VM on the grid with Terraform?",
        "Can I run the Farmerbot on a VPS?",
        "Running a Presearch node on a Hetzner VPS, enough RAM?",
        "Do I need to enable virtualization (VT-x) in the BIOS for my node?",
        "My bare metal node shows virtualized=true but it's a real Dell server",
        "proxmox homelab: best way to pass a GPU to a Windows VM?",
        "node offline since yesterday, minting will be lower?",
        "bridge TFT to BSC not arriving",
    ],
)
def test_look_alikes_stay_silent(kb, text):
    m = kb.match(text)
    assert m.on_topic is False, (m.score, m.reasons)
    assert m.entry is None


def test_every_match_has_reasons(kb):
    m = kb.match("can I farm tft with zero os in a proxmox vm?")
    assert m.on_topic and m.band == "sure"
    assert any(r.startswith("model p=") for r in m.reasons)
    assert any(r.startswith("feature ") for r in m.reasons)
    assert m.to_dict()["reasons"] and m.to_dict()["band"] == "sure"


def test_threshold_override(kb):
    text = "vm farming possible??"
    assert kb.match(text).on_topic
    assert not kb.match(text, threshold=1.01).on_topic


def test_wrongly_flagged_is_candidate_only(kb):
    for text in (
        "My physical server is flagged as virtualized, I never used a VM",
        "my node says virtualized but it's a real dell r720, help",
    ):
        m = kb.match(text)
        assert not m.on_topic and m.candidate == "wrongly-flagged" and m.band == "off", m.reasons
        assert any("support" in r for r in m.reasons)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02" * 1000,
        "🙂" * 5000,
        "节点能在虚拟机里挖矿吗",
        "a" * 1_000_000,
        "vm " * 300_000,
    ],
)
def test_bad_input_gives_clean_match(kb, junk):
    m = kb.match(junk)
    assert isinstance(m.on_topic, bool) and 0.0 <= m.score <= 1.0


def test_non_string_input_does_not_raise(kb):
    assert kb.match(None).on_topic is False  # type: ignore[arg-type]
    assert kb.match(b"can I farm zos in a vm?").on_topic is True  # type: ignore[arg-type]


def test_long_post_only_head_is_scored(kb):
    # the question sits at the start; a megabyte of log after it must not change the verdict
    text = "Can I farm with Zero OS inside a VirtualBox VM?\n" + ("log line 42 ok\n" * 70_000)
    assert kb.match(text).on_topic


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_never_raises_on_any_text(text):
    m = knowledge.default_kb().match(text)
    assert isinstance(m, knowledge.Match)
    assert (m.entry is None) or m.on_topic


@pytest.mark.parametrize(
    "text",
    [
        "My home k8s cluster runs on ESXi. Would zero-os inside ESXi on the same host get farming rewards?",
        "wallet is set, farm created in the dashboard. next step: boot zos as a VM on proxmox, does that mint?",
        "Could I virtualise my 3nodes and keep my ceph cluster on the same servers?",
    ],
)
def test_zos_itself_virtualized_is_not_vetoed_by_its_surroundings(kb, text):
    # the model may abstain (band "unsure": an explicit call answers it), never rule it out
    m = kb.match(text)
    assert m.band in ("sure", "unsure"), m.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Besides my 3Nodes I also run a Proxmox box. Should my Plex VM use ZFS?",
        "off topic: Hyper-V or VirtualBox for a Windows VM? My farm is unrelated, just asking here.",
        "Aside from my farm, which hypervisor do you like for a home lab VM host?",
        "farmerbot inside a VM on proxmox next to my zos vm, any issues?",
        "I deployed kubernetes workers as full VMs on my zos node, the dashboard shows an error",
    ],
)
def test_passing_farming_mention_or_grid_workload_stays_quiet(kb, text):
    m = kb.match(text)
    assert not m.on_topic, (m.score, m.reasons)


@pytest.mark.parametrize(
    "text",
    [
        # negated virtualization words (en, de, fr)
        "my node has no VM, no docker, nothing. why is it offline since yesterday?",
        "Kein VM, kein Docker: mein Knoten startet ZOS direkt. Warum zeigt das Farming 0 TFT?",
        "pas de VM ici, le noeud tourne sur du materiel dedie. Pourquoi mon farm ne mint pas ?",
        "without any hypervisor, direct install — node shows 0 rewards after 2 days, normal?",
        # a reward report with no virtualization word ("60 tft" is not "0 tft")
        "minting report shows 60 tft less than last month, uptime was fine. what changed?",
        # other infrastructure virtualized next to the node
        "the pfsense VM on my proxmox died and now my 3node is offline, how long before rewards drop?",
        "NAS VM crashed and took the network with it, node went offline. will I lose rewards for today?",
        # the node is said to be bare metal; the question is about something else
        "The node itself runs on bare metal, but Proxmox hosts my monitoring VM. How can I get node metrics?",
        # leaving farming, off-topic markers, converting a hypervisor box into a node
        "Off topic but: best hypervisor for my old 3Node box now that I stopped farming?",
        "selling my 3node hardware, someone wants it for esxi. how do I remove the node from my farm?",
        "converting my unraid server into a zos node, how do I boot from usb?",
    ],
)
def test_virtualization_not_about_the_node_stays_quiet(kb, text):
    m = kb.match(text)
    assert m.on_topic is False, (m.score, m.reasons)
    assert m.reasons, "a refusal carries its reasons"


@pytest.mark.parametrize(
    "text",
    [
        # the same words, about the node itself
        "My node is not bare metal, it's a Proxmox VM. Will it earn?",
        "why can't my node run in a VM?",
        "Is farming in a VM really not possible, or is the rule outdated?",
        "Can I switch my Proxmox host to ZOS in a VM? how?",
        "I want to move my bare metal 3Node into Proxmox to share the box, will it still get rewards?",
        "My node runs in KVM and I got 0 tft this month, why?",
        "Isn't a hypervisor under Zero OS just wasted overhead?",
        # terse "why does it matter if it's a VM"
        "who cares if it runs in a VM?? capacity is capacity, why is tf so strict",
        "Why does it matter whether my 3node is virtual or physical?",
    ],
)
def test_negation_and_bare_metal_rules_keep_real_questions(kb, text):
    m = kb.match(text)
    assert m.band in ("sure", "unsure"), (m.score, m.reasons)


def test_latin_words_inside_cjk_text_still_count(kb):
    # No spaces in Chinese/Japanese: "在VPS上" must still give the model the word VPS.
    from knowledge import features

    assert "vps" in features.tokens(features.normalize("请问可以在VPS上跑ThreeFold节点挖TFT吗？"))
    assert kb.match("ESXiの仮想マシンでZero-OSを動かせますか").band in ("sure", "unsure")
