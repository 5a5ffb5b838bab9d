"""`farmhand train [--out MODEL] [--with-labels FILE.jsonl]`: fit the matcher model from the data.

Needs the `train` extra (scikit-learn). Deterministic: the same files give a byte-identical
model file. Extra labels are JSONL lines in the training format (`text`, `label`, optional
`entry`, `pair`, `writer`), appended to the shipped data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
    out = Path(args.out) if args.out else train.MODEL_PATH
    try:
        model = train.train(out, extra)
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
