"""The learned gate (knowledge/gate_model.py): loads, deterministic, safe on any input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import gate_model
from knowledge.gate_model import GateModel, features, load, score

ROOT = Path(__file__).resolve().parents[2]

POSITIVES = [
    "Can I farm ThreeFold with Zero OS in a VM on my Proxmox server?",
    "does zos work on a vps? want to farm without buying hardware",
    "My 3Node runs in VirtualBox and shows virtualized, no rewards this month. Why?",
]
NEGATIVES = [
    "How do I deploy a full VM on the grid from the dashboard?",
    "My wallet does not show the TFT I bridged from BSC, what should I do?",
    "Terraform apply fails with 'no nodes available' when I deploy a kubernetes cluster",
]


def test_bundled_weights_load_and_are_small() -> None:
    data = json.loads(gate_model.WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert gate_model.WEIGHTS_PATH.stat().st_size < 1_000_000
    assert data["spec"] == gate_model.spec()
    assert all(v != 0 for v in data["weights"].values())  # sparse: zeros are not stored
    model = load()
    assert len(model.weights) == len(data["weights"]) > 1000


def test_broken_or_mismatched_weights_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "w.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"w\.json"):
        load(bad)
    other = json.loads(gate_model.WEIGHTS_PATH.read_text(encoding="utf-8"))
    other["spec"]["max_chars"] = 1
    bad.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ValueError, match="spec mismatch"):
        load(bad)


@pytest.mark.parametrize("text", POSITIVES)
def test_obvious_positives_score_high(text: str) -> None:
    assert score(text) >= 0.7


@pytest.mark.parametrize("text", NEGATIVES)
def test_obvious_negatives_score_low(text: str) -> None:
    assert score(text) <= 0.3


def test_fast_path_equals_explicit_features() -> None:
    # score() uses a per-word cache; it must be the same linear model as features().
    model = load()
    for text in [*POSITIVES, *NEGATIVES, "Zero-OS auf einer VM (Proxmox) farmen? ¿Puedo usar una VPS?"]:
        z = model.bias + sum(model.weights.get(f, 0.0) * v for f, v in features(text).items())
        assert math.isclose(model.decision(text), z, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(model.score(text), gate_model.sigmoid(z), rel_tol=1e-9)


def test_deterministic_across_processes() -> None:
    # str hashes are salted per process; the model must not depend on them.
    code = "from knowledge.gate_model import score; print(repr(score('can i farm zos in a vm on hetzner cloud?')))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
    assert float(outs.pop()) == score("can i farm zos in a vm on hetzner cloud?")


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   \n\t ",
        None,
        b"\xff\xfe\x00binary\x00junk\x9c",
        "\x00\x01\x02" * 1000,
        "Я хочу фармить на виртуальной машине 農場 仮想マシン 🚜🚜🚜",
        12345,
        "x" * 1_000_000,
        "vm farm " * 200_000,
    ],
)
def test_never_raises_and_stays_in_unit_interval(junk: object) -> None:
    p = score(junk)
    assert isinstance(p, float)
    assert 0.0 <= p <= 1.0


def test_empty_post_scores_the_prior_not_a_crash() -> None:
    model = load()
    assert score("") == gate_model.sigmoid(model.bias)


def test_only_the_head_is_read() -> None:
    # A 1 MB paste costs what its first MAX_CHARS do (the rest cannot change the score).
    head = POSITIVES[0] + " " + "filler " * (gate_model.MAX_CHARS // 7 + 10)
    assert score(head + "deploy terraform dashboard " * 10_000) == score(head)


def test_word_cache_is_bounded() -> None:
    model = GateModel(load().weights, load().bias)
    for i in range(gate_model.WORD_CACHE_LIMIT // 100 + 5):
        model.score(" ".join(f"w{i}x{j}" for j in range(100)))
    assert len(model._word_cache) <= gate_model.WORD_CACHE_LIMIT


def test_trainer_is_deterministic_and_learns() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import train_gate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    posts = [
        train_gate.Post(str(i), t, y, "f")
        for i, (t, y) in enumerate(
            [(t, 1) for t in POSITIVES * 3] + [(t, 0) for t in NEGATIVES * 3],
        )
    ]
    a = train_gate.train(posts, epochs=5, l2=1e-4, lr=0.3, min_df=1)
    b = train_gate.train(posts, epochs=5, l2=1e-4, lr=0.3, min_df=1)
    assert a.weights == b.weights and a.bias == b.bias
    assert all(a.score(t) > 0.5 for t in POSITIVES)
    assert all(a.score(t) < 0.5 for t in NEGATIVES)
