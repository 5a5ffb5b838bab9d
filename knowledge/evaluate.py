"""Precision, recall and F1 of the matcher on labelled posts (`farmhand eval questions`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.model import Match

POSITIVE = "vm_farming"


@dataclass(frozen=True, slots=True)
class Miss:
    id: str
    label: str
    entry: str | None
    score: float
    text: str


@dataclass(frozen=True, slots=True)
class Figures:
    tp: int
    fp: int
    fn: int
    tn: int
    false_positives: tuple[Miss, ...] = field(default=())
    false_negatives: tuple[Miss, ...] = field(default=())
    errors: tuple[str, ...] = field(default=())

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, object]:
        def miss(m: Miss) -> dict[str, object]:
            return {"id": m.id, "label": m.label, "entry": m.entry, "score": m.score, "text": m.text}

        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "false_positives": [miss(m) for m in self.false_positives],
            "false_negatives": [miss(m) for m in self.false_negatives],
            "errors": list(self.errors),
        }


LABELS = (POSITIVE, "other")


def labelled_row(obj: dict[str, object], n: int) -> tuple[dict[str, str] | None, str | None]:
    """(row {id, text, label}, None) for a good labelled JSON object, else (None, why it is refused)."""
    import difflib

    text = obj.get("text")
    if not isinstance(text, str):  # an empty post is a fair test: the bot must stay silent
        return None, 'no "text" (the post, a string)'
    if "label" not in obj:
        return None, f'no "label" ({" or ".join(LABELS)})'
    label = obj["label"]
    if label not in LABELS:
        near = difflib.get_close_matches(str(label), LABELS, n=1) if isinstance(label, str) else []
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return None, f"label must be {' or '.join(LABELS)}, not {json.dumps(label, ensure_ascii=False)}{hint}"
    return {"id": str(obj.get("id", f"line-{n}")), "text": text, "label": str(label)}, None


def read_labelled(path: str | Path) -> tuple[list[dict[str, str]], list[str]]:
    """Rows {id, text, label} of a JSONL file, and one `line N: problem` per bad line."""
    rows: list[dict[str, str]] = []
    errors: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {n}: not JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                errors.append(f"line {n}: not a JSON object")
                continue
            row, why = labelled_row(obj, n)
            if row is None:
                errors.append(f"line {n}: {why}")
            else:
                rows.append(row)
    return rows, errors


def head(text: str, width: int = 90) -> str:
    """The first line-ish of a post, one line, for printing misses."""
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def score(rows: Iterable[dict[str, str]], matches: Iterable[Match], errors: Iterable[str] = ()) -> Figures:
    """Count hits and misses of on_topic against label == vm_farming."""
    tp = fp = fn = tn = 0
    fps: list[Miss] = []
    fns: list[Miss] = []
    for row, m in zip(rows, matches, strict=True):
        positive = row["label"] == POSITIVE
        miss = Miss(row["id"], row["label"], m.entry or m.candidate, m.score, head(row["text"]))
        if m.on_topic and positive:
            tp += 1
        elif m.on_topic:
            fp += 1
            fps.append(miss)
        elif positive:
            fn += 1
            fns.append(miss)
        else:
            tn += 1
    return Figures(tp, fp, fn, tn, tuple(fps), tuple(fns), tuple(errors))
