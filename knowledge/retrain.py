"""Refit the matcher on the shipped data plus a community's labels, and measure before/after.

    shipped training data + labels (minus a held-back slice) -> knowledge.train.fit -> candidate model
    shipped model, candidate model -> the shipped test split (knowledge/data/test) and the held-back labels

The test split is only *measured* here, never trained on (as in `knowledge/train.py`). Labels
come first when texts repeat, so a community's decision on a post overrides a shipped example with
the same text. A candidate that is worse on the shipped test split (precision or F1 down by more
than `TOLERANCE`) is refused: the caller does not write it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge import features as feats
from knowledge import scorer, train
from knowledge.evaluate import Figures, score
from knowledge.loader import read_entries

TEST_DIR = train.DATA / "test"
HELD_SHARE = 5  # one label in five is held back (at least one when there are two or more)
TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Agreement:
    """How many held-back labels a model agrees with (on topic or not)."""

    right: int
    n: int


@dataclass(frozen=True, slots=True)
class Retrained:
    model: dict
    labels: int
    held: int
    test_before: Figures
    test_after: Figures
    held_before: Agreement
    held_after: Agreement

    @property
    def worse(self) -> str | None:
        """Why the candidate is worse on the shipped test split, or None."""
        b, a = self.test_before, self.test_after
        if a.precision < b.precision - TOLERANCE:
            return f"precision {a.precision:.3f} < {b.precision:.3f}"
        if a.f1 < b.f1 - TOLERANCE:
            return f"F1 {a.f1:.3f} < {b.f1:.3f}"
        return None


def test_rows(directory: Path = TEST_DIR) -> list[dict[str, str]]:
    """The shipped test split's labelled posts ({id, text, label})."""
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append({"id": str(r["id"]), "text": r["text"], "label": r["label"]})
    return rows


def _kb(model: dict | scorer.Model):
    from knowledge import KnowledgeBase

    located, problems = read_entries(None)
    if problems:
        raise ValueError(problems[0])
    m = model if isinstance(model, scorer.Model) else scorer.Model(model)
    return KnowledgeBase(tuple(item.entry for item in located), model=m)


def measure(model: dict | scorer.Model, rows: Sequence[dict[str, str]]) -> Figures:
    """Precision/recall/F1 of auto-replies (on_topic) against the labels."""
    kb = _kb(model)
    return score(rows, [kb.match(r["text"]) for r in rows])


def agreement(model: dict | scorer.Model, held: Sequence[train.Example]) -> Agreement:
    kb = _kb(model)
    right = sum(1 for ex in held if kb.match(ex.text).on_topic == bool(ex.y))
    return Agreement(right, len(held))


def split_held(labels: Sequence[train.Example]) -> tuple[list[train.Example], list[train.Example]]:
    """(training, held back): one in HELD_SHARE by a stable hash of the id, at least one of two."""
    order = sorted(labels, key=lambda ex: hashlib.sha256(ex.id.encode()).hexdigest())
    held = [ex for i, ex in enumerate(order) if i % HELD_SHARE == HELD_SHARE - 1]
    if not held and len(order) >= 2:
        held = [order[-1]]
    ids = {ex.id for ex in held}
    return [ex for ex in labels if ex.id not in ids], held


def _dedupe(examples: Sequence[train.Example]) -> list[train.Example]:
    seen: set[str] = set()
    out = []
    for ex in examples:
        key = " ".join(feats.normalize(ex.text).split())
        if key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def retrain(labels_file: Path, *, base: dict | None = None, limit: int | None = None) -> Retrained:
    """Fit on the shipped data plus `labels_file` (training JSONL); measure against `base`
    (default: the shipped model). `limit`: use only that many shipped gate examples (quick runs)."""
    labels = [ex for ex in train.read_jsonl(labels_file, labels_file.name) if ex.y is not None]
    fit_labels, held = split_held(labels)
    shipped, digests = train.load_examples(train.ROOT, ())
    if limit is not None:
        gated = sorted((ex for ex in shipped if ex.y is not None), key=lambda e: hashlib.sha256(e.id.encode()).hexdigest())
        keep = {ex.id for ex in gated[:limit]}
        shipped = [ex for ex in shipped if ex.y is None or ex.id in keep]
    digests[labels_file.name] = hashlib.sha256(labels_file.read_bytes()).hexdigest()[:16]
    examples = _dedupe([*fit_labels, *shipped])
    dealt = {ex.group for ex in shipped if ex.y is not None}  # shipped groups keep their folds
    model = train.fit(examples, digests, evaluate=False, dealt=dealt)
    model["meta"]["community_labels"] = {"fitted": len(fit_labels), "held_back": len(held)}
    before = base if base is not None else json.loads(train.MODEL_PATH.read_text(encoding="utf-8"))
    rows = test_rows()
    return Retrained(
        model=model,
        labels=len(labels),
        held=len(held),
        test_before=measure(before, rows),
        test_after=measure(model, rows),
        held_before=agreement(before, held),
        held_after=agreement(model, held),
    )
