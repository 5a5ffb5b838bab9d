"""A learned combiner of weak signs, where the detector's rules abstain: measured, not shipped.

Leave one set out over tests/fixtures/real-pastes (each set is another collector's): a logistic
regression over the paste's words (digits folded to 0; words seen in >= 3 pastes of >= 2 sets of
the training part, so no host name or serial enters it) and the signals that fired, trained on
the other sets, asked on the held-out set's pastes the rules call `inconclusive`.

    pip install -e '.[train]'
    python bench/detector_weak_combiner.py [--c 1.0]

Prints, for each probability threshold, how many abstentions it would decide right and wrong
(and how many of the wrong ones are bare metal <-> virtual), alone and gated (only where a rule
hint points the same way and none the other). docs/detector.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import detector

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "real-pastes"
CLASSES = ("bare-metal", "virtual", "container")
WORD = re.compile(r"[a-z][a-z0-9_\-.]{1,30}")
MIN_DF, MIN_SETS = 3, 2


def words(text: str) -> set[str]:
    low = re.sub(r"\d", "0", text.lower())
    return {"w|" + w.strip(".-_") for w in WORD.findall(low) if 2 <= len(w.strip(".-_")) <= 30}


def load() -> list[dict]:
    rows = []
    for manifest in sorted(ROOT.glob("*/MANIFEST.jsonl")):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            m = json.loads(line)
            try:
                text = detector.decode((manifest.parent / m["file"]).read_bytes())
            except detector.InputRefused:
                continue
            v = detector.analyze(text)
            feats = words(text) | {"s|" + e.signal for e in v.evidence}
            kinds = {e.points_to.split(":")[0] for e in v.evidence if e.weight > 0}
            rows.append({"set": manifest.parent.name, "truth": m["truth"], "accept": set(m.get("accept") or [m["truth"]]),
                         "rule": v.verdict, "feats": feats, "kinds": kinds})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation (default 1.0)")
    args = ap.parse_args()
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = load()
    preds = []
    for held in sorted({r["set"] for r in rows}):
        train = [r for r in rows if r["set"] != held and r["truth"] in CLASSES]
        df: Counter[str] = Counter()
        sets: dict[str, set[str]] = defaultdict(set)
        for r in train:
            df.update(r["feats"])
            for f in r["feats"]:
                sets[f].add(r["set"])
        vocab = {f for f, n in df.items() if n >= MIN_DF and len(sets[f]) >= MIN_SETS}
        dv = DictVectorizer()
        x = dv.fit_transform([{f: 1 for f in r["feats"] & vocab} for r in train])
        model = LogisticRegression(C=args.c, max_iter=2000).fit(x, [CLASSES.index(r["truth"]) for r in train])
        test = [r for r in rows if r["set"] == held and r["rule"] == "inconclusive"]
        if test:
            probs = model.predict_proba(dv.transform([{f: 1 for f in r["feats"] & vocab} for r in test]))
            preds += list(zip(test, probs, strict=True))
    print(f"{len(rows)} pastes, {len(preds)} abstentions ({dict(Counter(r['truth'] for r, _ in preds))})")
    for gated in (False, True):
        print("gated by a rule hint" if gated else "alone")
        for tau in (0.6, 0.7, 0.8, 0.9, 0.95):
            right = wrong = cross = 0
            for r, p in preds:
                k = max(range(len(CLASSES)), key=lambda i: p[i])
                guess = CLASSES[k]
                if p[k] < tau or (gated and (guess not in r["kinds"] or r["kinds"] & (set(CLASSES) - {guess}))):
                    continue
                if guess in r["accept"] or guess == r["truth"]:
                    right += 1
                else:
                    wrong += 1
                    cross += {guess, r["truth"]} == {"bare-metal", "virtual"}
            print(f"  p >= {tau:.2f}: right {right:3d}  wrong {wrong:3d}  (bare metal <-> virtual {cross})")


if __name__ == "__main__":
    main()
