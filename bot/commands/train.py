"""`farmhand train [--out MODEL] [--with-labels STATE_OR_JSONL]`: fit the matcher model from the data.

Needs the `train` extra (scikit-learn). Deterministic: the same files give a byte-identical
model file. Without labels it refits the shipped model from the shipped data.

With `--with-labels` (a farmhand state file, whose labels are exported as by `farmhand labels
export`, or training JSONL: `text`, `label`, optional `entry`, `pair`, `writer`) it refits on the
shipped data plus the labels (one in five held back), prints the before/after figures on the
shipped test split and on the held-back labels, and writes `--out` (required here: the file
`matcher.model_path` points to) only when the new model is not worse on the shipped test split.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def _labels_jsonl(path: Path, tmp: Path) -> Path:
    """A JSONL file of labels: the file itself, or the labels exported from a state file."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        return path
    from bot.labels import export_jsonl
    from bot.state import Store

    store = Store(path)
    try:
        text = export_jsonl(store.labels())
    finally:
        store.close()
    out = tmp / f"{path.stem}-labels.jsonl"
    out.write_text(text, encoding="utf-8")
    return out


def _fig(f) -> str:
    return f"precision {f.precision:.3f} recall {f.recall:.3f} F1 {f.f1:.3f}"


def main(args: argparse.Namespace) -> int:
    try:
        from knowledge import train
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        print(f"error: training needs the 'train' extra (pip install farmhand[train]): {exc}", file=sys.stderr)
        return 2
    extra = [Path(p) for p in args.with_labels or ()]
    for p in extra:
        if not p.is_file():
            print(f"error: {p}: no such file", file=sys.stderr)
            return 2
    if extra:
        return _with_labels(args, extra)
    out = Path(args.out) if args.out else train.MODEL_PATH
    from bot.inputs import spinner

    try:
        with spinner("training") as update:
            model = train.train(out, extra, step=update)
    except ImportError as exc:
        print(f"error: training needs the 'train' extra (pip install farmhand[train]): {exc}", file=sys.stderr)
        return 2
    gate, meta = model["gate"], model["meta"]
    oof = meta.get("oof", {})
    print(f"wrote {out}")
    print(
        f"examples {meta['gate_examples']} ({meta['on_topic']} on topic), entry examples {meta['entry_examples']}"
    )
    print(f"threshold {gate['threshold']:.2f}, abstain band [{gate['band'][0]:.2f}, {gate['band'][1]:.2f})")
    if oof:
        print(f"out-of-fold at the threshold: precision {oof['precision']:.3f} recall {oof['recall']:.3f}")
    if "entry_oof_accuracy" in meta:
        print(f"entry choice out-of-fold accuracy {meta['entry_oof_accuracy']:.3f}")
    return 0


def _with_labels(args: argparse.Namespace, extra: list[Path]) -> int:
    if len(extra) != 1:
        print("error: --with-labels takes one state file or JSONL file here", file=sys.stderr)
        return 2
    if not args.out:
        print("error: --with-labels needs --out MODEL (the file matcher.model_path points to)", file=sys.stderr)
        return 2
    from knowledge import retrain, train

    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="farmhand-train-") as tmp:
        try:
            labels = _labels_jsonl(extra[0], Path(tmp))
            result = retrain.retrain(labels, limit=args.limit)
        except ImportError as exc:
            print(f"error: training needs the 'train' extra (pip install farmhand[train]): {exc}", file=sys.stderr)
            return 2
        except (OSError, ValueError) as exc:
            print(f"error: {extra[0]}: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 2
    if result.labels == 0:
        print(f"error: {extra[0]}: no labels", file=sys.stderr)
        return 2
    gate = result.model["gate"]
    n = result.test_before.tp + result.test_before.fp + result.test_before.fn + result.test_before.tn
    print(f"labels {result.labels} ({result.labels - result.held} fitted, {result.held} held back)")
    print(f"shipped test split ({n} posts): before {_fig(result.test_before)}")
    print(f"shipped test split ({n} posts): after  {_fig(result.test_after)}")
    hb, ha = result.held_before, result.held_after
    print(f"held-back labels: before {hb.right}/{hb.n} agree, after {ha.right}/{ha.n} agree")
    print(f"threshold {gate['threshold']:.2f}, abstain band [{gate['band'][0]:.2f}, {gate['band'][1]:.2f})")
    why = result.worse
    if why is not None:
        print(f"error: the refitted model is worse on the shipped test split ({why}); not written", file=sys.stderr)
        return 1
    out.write_text(train.dumps(result.model), encoding="utf-8")
    print(f"wrote {out}")
    return 0
