"""The bundled knowledge base: every entry validates and has what the bot relies on."""

from __future__ import annotations

import re

import pytest

import knowledge
from knowledge import KnowledgeError, render_answer

EXPECTED_IDS = {
    "vm-farming",
    "why-decentralization",
    "why-efficiency",
    "why-security",
    "hypervisor-owners",
    "rented-servers",
    "testing-in-vm",
    "farming-on-bare-metal",
    "check-bare-metal",
    "containers",
    "bios-virtualization",
    "wrongly-flagged",
}


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.load()


def test_bundled_kb_has_no_problems():
    assert knowledge.check() == []


def test_all_entry_ids_present(kb):
    assert {e.id for e in kb.entries} == EXPECTED_IDS


def test_only_wrongly_flagged_is_not_auto_replied(kb):
    assert {e.id for e in kb.entries if not e.auto_reply} == {"wrongly-flagged"}


@pytest.mark.parametrize("entry_id", sorted(EXPECTED_IDS))
def test_entry_shape(kb, entry_id):
    e = kb.get(entry_id)
    assert e is not None
    assert len(e.questions) >= 8
    assert len(e.answer) <= 1900
    assert e.links and all(link.url.startswith("https://") for link in e.links)
    assert all(kb.get(r) is not None for r in e.related)
    rendered = render_answer(e)
    assert len(rendered) <= 1900
    assert rendered.startswith(e.answer.strip()[:50])
    assert "Sources:" in rendered


def test_answers_avoid_what_the_facts_forbid(kb):
    text = " ".join(e.answer + " " + e.short for e in kb.entries).lower()
    assert "no slashing" not in text
    assert "coming soon" not in text
    # rented dedicated servers: never promise rewards
    rented = kb.get("rented-servers").answer.lower()
    assert "says nothing about farming rewards" in rented


def test_check_bare_metal_says_paste_or_dm(kb):
    answer = kb.get("check-bare-metal").answer
    for cmd in ("dmidecode -t system", "lscpu", "systemd-detect-virt"):
        assert cmd in answer
    assert "DM" in answer and "paste" in answer.lower()


def test_render_answer_drops_links_to_fit():
    base = knowledge.default_kb().get("vm-farming")
    assert base is not None
    from dataclasses import replace

    big = replace(base, answer="x" * 1850)
    out = render_answer(big)
    assert len(out) <= 1900
    assert out.startswith("x" * 1850)


def test_get_unknown_is_none(kb):
    assert kb.get("nope") is None


def test_search_by_id_title_and_fuzzy(kb):
    assert kb.search("proxmox")[0].id == "hypervisor-owners"
    assert kb.search("why-sec")[0].id == "why-security"
    assert [e.id for e in kb.search("docker")][:1] == ["containers"]
    assert len(kb.search("")) == len(kb.entries)
    assert len(kb.search("a", limit=3)) <= 3


def test_default_kb_is_cached():
    assert knowledge.default_kb() is knowledge.default_kb()


def test_threshold_exposed(kb):
    assert 0 < kb.threshold < 1


def test_answers_have_no_person_attribution(kb):
    # the forum post's author is unknown: no "X wrote" / "by <name>" attribution
    for e in kb.entries:
        assert not re.search(r"\bwritten by\b|\bauthor\b", e.answer, re.I)


def test_load_rejects_missing_directory(tmp_path):
    with pytest.raises(KnowledgeError, match=r"missing: no such file or directory$"):
        knowledge.load(tmp_path / "missing")
