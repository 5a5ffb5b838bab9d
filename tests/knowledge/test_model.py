"""The trained matcher: shipped weights = what the shipped data trains, band, vetoes, held-out floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import knowledge
from knowledge import features, scorer, vetoes
from knowledge.evaluate import score

ROOT = Path(__file__).resolve().parents[2]
TEST = ROOT / "knowledge" / "data" / "test"


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.default_kb()


def test_shipped_model_is_what_the_shipped_data_trains():
    pytest.importorskip("sklearn")
    from knowledge import train

    examples, digests = train.load_examples()
    fresh = train.fit(examples, digests, evaluate=False)
    shipped = json.loads(train.MODEL_PATH.read_text(encoding="utf-8"))
    assert shipped["meta"]["files"] == fresh["meta"]["files"], "data changed: run `farmhand train`"
    for part in ("format", "spec", "gate", "entry"):
        assert _same(shipped[part], fresh[part], train.PRUNE), f"{part} differs: run `farmhand train`"


def _same(a, b, prune: float, path: str = "") -> bool:
    """Equal, except for one unit in the last rounded digit of a number (another BLAS or CPU can
    round 0.7843665 the other way) and weights that sit at the pruning edge on one side only."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() | b.keys():
            if k not in a or k not in b:
                only = a.get(k, b.get(k))
                if not (isinstance(only, float) and abs(only) < prune + 2e-4):
                    return False
            elif not _same(a[k], b[k], prune, f"{path}.{k}"):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, prune, path) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 2e-4 * max(1.0, abs(a)) if a != b else True
    return a == b


def test_the_comparison_of_models_tells_a_real_change():
    assert _same({"w": {"a": 0.5, "b": 0.0021}}, {"w": {"a": 0.5001}}, 2e-3)
    assert not _same({"w": {"a": 0.5}}, {"w": {"a": 0.51}}, 2e-3)
    assert not _same({"w": {"a": 0.5, "b": 0.3}}, {"w": {"a": 0.5}}, 2e-3)
    assert not _same({"ids": ["x", "y"]}, {"ids": ["x"]}, 2e-3)


def test_model_file_is_compact_and_loads_without_sklearn():
    # It grows with the data (3.0 MB with 8,620 posts); orjson reads it in about 40 ms.
    assert train_size() < 3_500_000
    m = scorer.load()
    assert 0.5 <= m.threshold <= 0.95 and m.band[0] <= m.band[1] == m.threshold


def train_size() -> int:
    return scorer.MODEL_PATH.stat().st_size


def test_broken_model_file_names_the_file(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"format": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"m\.json"):
        scorer.load(bad)


def test_band_follows_the_threshold(kb):
    text = "can I farm tft with zero os in a proxmox vm?"
    m = kb.match(text)
    assert m.band == "sure" and m.on_topic
    above = kb.match(text, threshold=1.01)  # above every probability: never sure
    assert above.band == "unsure" and not above.on_topic and above.candidate
    assert kb.match("bridge TFT to BSC not arriving").band == "off"


def test_unsure_band_is_silent_but_keeps_the_candidate(kb):
    m = kb.match("zos vm registered on the dashboard but zero tft after a month", threshold=0.999)
    assert m.band == "unsure" and not m.on_topic and m.entry is None and m.candidate == "vm-farming"
    assert any("unsure" in r for r in m.reasons)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("zos qemu dev vm stuck, just for development not farming", "not for farming"),
        ("Running a Presearch node on my Contabo VPS, is 4 GB RAM enough?", "another project"),
        ("my node says virtualized but it's a real dell r720, help", "support case"),
    ],
)
def test_vetoes_silence_and_say_why(kb, text, reason):
    m = kb.match(text)
    assert not m.on_topic and m.band == "off"
    assert any(r.startswith("veto:") and reason in r for r in m.reasons), m.reasons


def test_vetoes_do_not_fire_on_the_questions_they_resemble():
    for text in (
        "Why no farming in VMs?",
        "my proxmox vm node shows virtualized, why no rewards",
        "could my hosting provider ban my farming vps like presearch folks got banned?",
    ):
        assert vetoes.veto(features.normalize(text)) is None, text


@pytest.mark.parametrize(
    "text,entry",
    [
        ("Can I run ZOS on my Unraid server as a VM to farm?", "hypervisor-owners"),
        ("can i run a farming node in docker?", "containers"),
        ("Do I enable VT-x in BIOS for my 3node?", "bios-virtualization"),
    ],
)
def test_entry_choice_for_typical_posts(kb, text, entry):
    assert kb.match(text).candidate == entry


@pytest.mark.parametrize(
    "text",
    [
        "¿Puedo hacer farming de ThreeFold en una VPS?",
        "Kann ich einen ThreeFold Node in einer VM auf Proxmox betreiben und farmen?",
        "Posso fare farming con un nodo ThreeFold su una macchina virtuale?",
    ],
)
def test_non_english_questions_are_answered(kb, text):
    assert kb.match(text).on_topic


def test_features_are_deterministic_and_read_the_whole_post():
    long = "hello there " * 400 + "\ncan I farm zos in a vm?"
    f = features.features(long)
    assert f == features.features(long)
    assert "w|farm" in f and "b|in a" in f


def test_fast_path_equals_explicit_features():
    m = scorer.default_model()
    for text in ("Can I farm ZOS on a VPS?\n\nbody with 3 nodes", "virtualized: yes on my r720", "x"):
        fs = features.features(text)
        z = m.gate_bias + sum(m.gate_w.get(k, 0.0) * v for k, v in fs.items())
        a, b = m.calibration
        assert abs(m.score(text).p - scorer._sigmoid(a * z + b)) < 1e-9


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# The held-out split (knowledge/data/test/), never trained or tuned on. Floors set from the
# one measurement of each model, slightly below the latest: v1 judge P 0.992 R 0.551, real-b
# (all look-alikes) 3/218 answered; v2 (precision target 0.97, multilingual "not for farming"
# clause) judge P 0.986 R 0.620, real-b 4/218.
def test_heldout_floor(kb):
    judge = _read(TEST / "judge.jsonl")
    f = score(judge, [kb.match(p["text"]) for p in judge])
    assert f.precision >= 0.97 and f.recall >= 0.60
    real = _read(TEST / "real-b.jsonl")
    answered = sum(kb.match(p["text"]).on_topic for p in real)
    assert answered <= 5
    # real-c (159 real look-alikes, a third collector): v11 answered 4 when it arrived
    real_c = _read(TEST / "real-c.jsonl")
    assert len(real_c) == 159 and not any(p["label"] == "vm_farming" for p in real_c)
    assert sum(kb.match(p["text"]).on_topic for p in real_c) <= 5
