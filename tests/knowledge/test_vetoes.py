"""The vetoes that silence an auto-reply alone (knowledge/vetoes.py), each tied to its clause."""

from __future__ import annotations

import pytest

from knowledge.features import normalize
from knowledge.vetoes import veto


@pytest.mark.parametrize(
    "text",
    [
        "Kein VM, kein Docker: mein Knoten startet ZOS direkt. Warum zeigt das Farming 0 TFT?",
        "pas de VM ici, le noeud tourne sur du materiel dedie. Pourquoi mon farm ne mint pas ?",
        "my node has no VM and no hypervisor, why is farming at zero this month?",
        "sin virtualización, servidor físico: ¿por qué mi nodo no recibe TFT?",
    ],
)
def test_every_vm_word_negated_is_vetoed(text):
    v = veto(normalize(text))
    assert v is not None and v.reason.startswith("veto: says there is no VM")


@pytest.mark.parametrize(
    "text",
    [
        "no vm, just docker: ok for farming?",  # docker itself is not negated
        "can i farm without a vps? i only have a vm",
        "can i farm in a vm",
        "no hypervisor on the box, but could I run zos in virtualbox on my laptop for rewards?",
    ],
)
def test_a_vm_word_outside_the_negation_is_no_veto(text):
    assert veto(normalize(text)) is None


def test_the_support_case_goes_to_wrongly_flagged():
    v = veto(normalize("my node says virtualized but it's a real dell r720, help"))
    assert v is not None and v.candidate == "wrongly-flagged"


def test_not_for_farming_and_other_projects():
    assert "not for farming" in veto(normalize("ZOS in a VM, not for farming, just to learn. No DHCP?")).reason
    assert "another project" in veto(normalize("can I run my presearch node on a vps?")).reason
    assert veto(normalize("presearch node or threefold node on a vps, which earns?")) is None
