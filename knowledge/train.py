"""Fit the matcher model from the labelled files (`farmhand train`); needs the `train` extra.

    data -> features (knowledge/features.py) -> fit -> knowledge/matcher_model.json

Two linear models over the same sparse features, built from scikit-learn
`LogisticRegression` with the liblinear solver in its dual form (no BLAS; its coordinate
order is seeded, so it is deterministic; with far more features than posts the dual form
converges several times faster than the primal):

- the gate: P(the post asks about farming with a virtualized node), the mean of a plain and a
  naive-Bayes-weighted regression (`Gate`), calibrated by Platt scaling on out-of-fold scores;
- the entry chooser: one-vs-rest over the knowledge-base entries, trained on every post
  that names an entry plus the entries' own `questions`.

The threshold and the abstain band are chosen on out-of-fold predictions only: 5 folds
grouped by contrastive pair (both sides of a pair are always on the same side), vetoes
applied as at run time, precision first. Leave-one-writer-out figures go into the model
card (`meta`). `knowledge/data/test/` is never read here.

Deterministic: the same files give a byte-identical model file (sorted vocabulary, sorted
keys, rounded weights).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge import features as feats
from knowledge.loader import read_entries
from knowledge.vetoes import veto

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
DATA = PACKAGE / "data"
MODEL_PATH = PACKAGE / "matcher_model.json"
FORMAT = 1
POSITIVE = "vm_farming"
# Older labelled posts of the project (label only); present in a source checkout.
FIXTURE_GLOBS = ("tests/fixtures/questions*/*.jsonl",)
GOLDEN = "tests/fixtures/questions/golden.yaml"
MIN_DF = 2  # a word or bigram seen in one post only says nothing about the next one
MIN_DF_CHARS = 3
ENTRY_MIN_DF = 3
# Leave-one-writer-out figures (model card) for writers with at least this many posts.
LOWO_MIN = 300
# The gate sees character grams at this scale. A smaller value is a stronger L2 penalty on them
# alone: character grams fit one writer's spelling and phrasing, and out of fold and leave one
# writer out the gate recalls more of a new writer's posts when they count less than words.
# At export the weights are multiplied back, so the scorer reads plain features.
CHAR_SCALE = 0.35
GATE_C = 16.0
NB_ALPHA = 1.0  # add-one smoothing of the naive-Bayes ratios (`Gate`)
ENTRY_C = 4.0
FOLDS = 5
TARGET_PRECISION = 0.97  # the auto-reply threshold: out-of-fold precision at least this (the target)
BAND_RECALL = 0.95  # the band starts where this share of the on-topic posts is above it
MIN_THRESHOLD, MAX_THRESHOLD = 0.5, 0.95
ROUND = 4  # decimals of the shipped weights
ENTRY_ROUND = 3  # the entry chooser only ranks entries: three decimals keep the file small
PRUNE = 2e-3  # weights smaller than this are left out of the file (they move no decision)


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    y: int | None  # 1 on topic, 0 not, None: entry only (KB questions)
    entry: str | None
    group: str
    writer: str
    lang: str
    cls: str
    file: str


def training_files(root: Path = ROOT) -> list[Path]:
    """The labelled JSONL files training reads (never knowledge/data/test/)."""
    files = sorted((root / "knowledge" / "data" / "posts").glob("*.jsonl"))
    files += sorted((root / "knowledge" / "data" / "real").glob("*.jsonl"))
    for pattern in FIXTURE_GLOBS:
        files += sorted(root.glob(pattern))
    return files


# The labelling guide (knowledge/data/README.md) sends a farming question about a ZOS guest on a
# hypervisor or NAS the poster runs to `hypervisor-owners`. One writer labelled most of those
# `vm-farming`; training applies the guide to every writer's posts alike (never to the test split).
_OWNED_HYPERVISOR = re.compile(
    r"\b(?:proxmox|pve|esxi|vsphere|vmware (?:workstation|player|fusion)|hyper-?v|virtualbox|vbox|unraid"
    r"|truenas|synology|qnap|xcp-?ng|xenserver|libvirt|virt-manager|parallels|utm)\b",
    re.IGNORECASE,
)


def guide_entry(text: str, on_topic: bool, entry: str | None) -> str | None:
    """The entry the labelling guide gives a post (see `_OWNED_HYPERVISOR`)."""
    if on_topic and entry == "vm-farming" and _OWNED_HYPERVISOR.search(text):
        return "hypervisor-owners"
    return entry


def read_jsonl(path: Path, rel: str) -> list[Example]:
    """Examples of one labelled JSONL file (bad lines are skipped with a warning)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, label = row["text"], row["label"]
        except (json.JSONDecodeError, KeyError, TypeError):
            log.warning("%s:%d: not a labelled post, skipped", rel, n)
            continue
        if not isinstance(text, str) or not text.strip():
            continue
        pid = str(row.get("id", f"{rel}:{n}"))
        pair = row.get("pair")
        out.append(
            Example(
                id=pid,
                text=text,
                y=1 if label == POSITIVE else 0,
                entry=guide_entry(text, label == POSITIVE, row.get("entry") if isinstance(row.get("entry"), str) else None),
                group=f"pair:{pair}" if pair else f"post:{rel}:{pid}",
                writer=str(row.get("writer") or Path(rel).parent.name + "/" + Path(rel).stem),
                lang=str(row.get("lang") or "en"),
                cls=str(row.get("class") or ""),
                file=rel,
            )
        )
    return out


def read_golden(path: Path, rel: str) -> list[Example]:
    """The golden questions: text -> entry (the first listed), on topic unless said otherwise."""
    out = []
    for n, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or [], 1):
        entry = case["entry"][0] if isinstance(case["entry"], list) else case["entry"]
        out.append(
            Example(f"golden-{n}", case["text"], int(case.get("on_topic", True)), entry, f"golden:{n}",
                    "golden", "en", "golden", rel)
        )
    return out


def kb_questions() -> list[Example]:
    """Every entry's title and questions, for the entry chooser only."""
    located, problems = read_entries(None)
    if problems:
        raise ValueError(problems[0])
    out = []
    for item in sorted(located, key=lambda i: i.entry.id):
        e = item.entry
        for n, q in enumerate((e.title, *e.questions)):
            out.append(Example(f"kb-{e.id}-{n}", q, None, e.id, f"kb:{e.id}", "kb", "en", "kb", "kb"))
    return out


def load_examples(root: Path = ROOT, extra: Sequence[Path] = ()) -> tuple[list[Example], dict[str, str]]:
    """All training examples (deduplicated by normalised text, first wins) and file digests."""
    digests: dict[str, str] = {}
    examples: list[Example] = []
    for path in [*training_files(root), *extra]:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        digests[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        examples += read_jsonl(path, rel)
    golden = root / GOLDEN
    if golden.exists():
        digests[GOLDEN] = hashlib.sha256(golden.read_bytes()).hexdigest()[:16]
        examples += read_golden(golden, GOLDEN)
    examples += kb_questions()
    seen: set[str] = set()
    unique = []
    for ex in examples:
        key = " ".join(feats.normalize(ex.text).split())
        if key in seen:
            continue
        seen.add(key)
        unique.append(ex)
    return unique, digests


# --- fitting ---------------------------------------------------------------------------------


def _matrix(rows: list[dict[str, float]], vocab: dict[str, int]):
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    for row in rows:
        items = sorted((vocab[f], v) for f, v in row.items() if f in vocab)
        indices += [i for i, _ in items]
        data += [v for _, v in items]
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(vocab)), dtype=float)


def _scale_chars(row: dict[str, float]) -> dict[str, float]:
    """The gate's view of a post: character grams at CHAR_SCALE (see there)."""
    return {f: (v * CHAR_SCALE if f[:2] == "c|" else v) for f, v in row.items()}


def _vocabulary(rows: Iterable[dict[str, float]], *, chars: bool = True, min_df: int = MIN_DF) -> dict[str, int]:
    df: Counter[str] = Counter()
    for row in rows:
        df.update(row.keys())
    names = sorted(
        f
        for f, n in df.items()
        if f[:2] in ("s|", "k|", "x|")
        or (f[:2] == "c|" and chars and n >= MIN_DF_CHARS)
        or (f[:2] in ("w|", "b|") and n >= min_df)
    )
    return {f: i for i, f in enumerate(names)}


class Gate:
    """The gate: the mean of two logistic regressions over the same features, each scaled to
    unit spread of its training scores, which is again one linear model (`coef_`, `intercept_`).

    - plain: the features as they are;
    - NB-weighted (Wang & Manning's NBSVM, 2012): each feature multiplied by its naive-Bayes
      log-count ratio r = log(share among on-topic posts / share among the others), so a word
      that only one side uses starts with a head start the regulariser does not erase.
    The plain model ranks a new writer's posts by what the words mean together, the NB model by
    which side each word is on; averaged they recall more of a writer neither trained on, at the
    same precision (leave-one-writer-out), than either alone.
    """

    def __init__(self, c: float = GATE_C) -> None:
        self.c = c

    def fit(self, x, y) -> Gate:
        import numpy as np

        seen = (x > 0).astype(float)
        pos = NB_ALPHA + np.asarray(seen[y == 1].sum(axis=0)).ravel()
        neg = NB_ALPHA + np.asarray(seen[y == 0].sum(axis=0)).ravel()
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        plain = _logistic(self.c).fit(x, y)
        nb = _logistic(self.c).fit(x.multiply(ratio).tocsr(), y)
        w_plain = plain.coef_[0]
        w_nb = nb.coef_[0] * ratio
        sa = float(np.std(x @ w_plain + plain.intercept_[0])) or 1.0
        sb = float(np.std(x @ w_nb + nb.intercept_[0])) or 1.0
        self.coef_ = ((0.5 / sa) * w_plain + (0.5 / sb) * w_nb).reshape(1, -1)
        self.intercept_ = np.array([0.5 * plain.intercept_[0] / sa + 0.5 * nb.intercept_[0] / sb])
        return self

    def decision_function(self, x):
        return x @ self.coef_[0] + self.intercept_[0]


def _gate(c: float | None = None) -> Gate:
    return Gate(GATE_C if c is None else c)


def _entry_model(c: float | None = None):
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(_logistic(ENTRY_C if c is None else c))


def _logistic(c: float):
    """Every regression the model is made of: liblinear's dual form, seeded (see the top)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=2000, tol=1e-5, random_state=0)


def _folds(groups: Sequence[str], k: int = FOLDS, dealt: Iterable[str] | None = None) -> list[int]:
    """A fold per example: groups dealt round-robin in order of a stable hash (no RNG).

    `dealt`: deal only these groups round-robin (the shipped data's), and put any other group in
    the fold its hash names, so that adding a few examples (a community's labels) leaves every
    shipped group in its fold and the out-of-fold threshold does not jitter.
    """
    base = set(groups) if dealt is None else set(dealt)
    order = sorted(base, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    fold_of = {g: i % k for i, g in enumerate(order)}
    return [fold_of[g] if g in fold_of else int(hashlib.sha256(g.encode()).hexdigest()[:8], 16) % k for g in groups]


def _platt(z: Sequence[float], y: Sequence[int]) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a*z + b), fitted by Newton's method (pure, deterministic)."""
    # Platt's targets keep the fit from going infinite on separable scores.
    pos = sum(y)
    neg = len(y) - pos
    t = [(pos + 1) / (pos + 2) if v else 1 / (neg + 2) for v in y]
    a, b = 1.0, 0.0
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for zi, ti in zip(z, t, strict=True):
            p = _sigmoid(a * zi + b)
            d = p - ti
            w = max(p * (1 - p), 1e-12)
            ga += d * zi
            gb += d
            haa += w * zi * zi
            hab += w * zi
            hbb += w
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-10 and abs(db) < 1e-10:
            break
    return a, b


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


def figures(p: Sequence[float], y: Sequence[int], t: float) -> dict[str, float]:
    """Precision, recall and counts of `p >= t` against labels."""
    tp = sum(1 for pi, yi in zip(p, y, strict=True) if pi >= t and yi)
    fp = sum(1 for pi, yi in zip(p, y, strict=True) if pi >= t and not yi)
    fn = sum(1 for pi, yi in zip(p, y, strict=True) if pi < t and yi)
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n": len(y),
    }


def choose_band(p: Sequence[float], y: Sequence[int]) -> tuple[float, float]:
    """(low, high): high = the lowest threshold whose precision (there and above) meets the
    target; low = where BAND_RECALL of the on-topic posts are still above it."""
    grid = [round(MIN_THRESHOLD + 0.01 * i, 2) for i in range(round((MAX_THRESHOLD - MIN_THRESHOLD) / 0.01) + 1)]
    ok = [t for t in grid if all(figures(p, y, u)["precision"] >= TARGET_PRECISION for u in grid if u >= t)]
    high = ok[0] if ok else MAX_THRESHOLD
    low_grid = [round(0.05 + 0.01 * i, 2) for i in range(round((high - 0.05) / 0.01) + 1)]
    lows = [t for t in low_grid if figures(p, y, t)["recall"] >= BAND_RECALL]
    low = lows[-1] if lows else 0.05
    return min(low, high), high


def _oof(rows, y, groups, vocab, x=None, dealt=None):
    """Out-of-fold raw gate scores (decision values)."""
    folds = _folds(groups, dealt=dealt)
    x = _matrix(rows, vocab) if x is None else x
    z = [0.0] * len(y)
    import numpy as np

    yy = np.asarray(y)
    for k in range(FOLDS):
        tr = [i for i, f in enumerate(folds) if f != k]
        va = [i for i, f in enumerate(folds) if f == k]
        model = _gate().fit(x[tr], yy[tr])
        for i, v in zip(va, model.decision_function(x[va]), strict=True):
            z[i] = float(v)
    return z


def _by_writer(rows, y, writers, vocab, x, calib, threshold, vetoed) -> dict[str, dict[str, float]]:
    """Leave-one-writer-out figures at the chosen threshold (for the model card)."""
    import numpy as np

    yy = np.asarray(y)
    out = {}
    for w in sorted(set(writers)):
        va = [i for i, v in enumerate(writers) if v == w]
        tr = [i for i, v in enumerate(writers) if v != w]
        if len(va) < LOWO_MIN:
            continue
        model = _gate().fit(x[tr], yy[tr])
        a, b = calib
        p = [
            0.0 if vetoed[i] else _sigmoid(a * float(z) + b)
            for i, z in zip(va, model.decision_function(x[va]), strict=True)
        ]
        out[w] = figures(p, [y[i] for i in va], threshold)
    return out


def fit(
    examples: list[Example],
    digests: dict[str, str] | None = None,
    *,
    evaluate: bool = True,
    dealt: Iterable[str] | None = None,
    step: Callable[[str], None] = lambda what: None,
) -> dict:
    """The model file's content (a dict ready for `json.dumps`); `dealt`: see `_folds`;
    `step(what)` is told each stage as it starts (a terminal shows it)."""
    import numpy as np

    step("reading features")

    rows = [feats.features(ex.text) for ex in examples]
    gate_idx = [i for i, ex in enumerate(examples) if ex.y is not None]
    g_rows = [_scale_chars(rows[i]) for i in gate_idx]
    y = [examples[i].y for i in gate_idx]
    groups = [examples[i].group for i in gate_idx]
    vocab = _vocabulary(g_rows)
    x = _matrix(g_rows, vocab)
    vetoed = [veto(feats.normalize(examples[i].text)) is not None for i in gate_idx]

    step(f"out-of-fold scores ({FOLDS} folds)")
    z = _oof(g_rows, y, groups, vocab, x, dealt=None if dealt is None else set(dealt))
    a, b = _platt(z, y)
    p_oof = [0.0 if v else _sigmoid(a * zi + b) for zi, v in zip(z, vetoed, strict=True)]
    low, high = choose_band(p_oof, y)
    step("fitting the gate")
    gate = _gate().fit(x, np.asarray(y))

    e_idx = [i for i, ex in enumerate(examples) if ex.entry]
    kb_ids = sorted({ex.entry for ex in examples if ex.file == "kb"})
    e_idx = [i for i in e_idx if examples[i].entry in kb_ids]
    e_rows = [rows[i] for i in e_idx]
    # the entry is named by words, and by words more than two posts share: keeps the file small
    e_vocab = _vocabulary(e_rows, chars=False, min_df=ENTRY_MIN_DF)
    ex_m = _matrix(e_rows, e_vocab)
    e_y = np.asarray([kb_ids.index(examples[i].entry) for i in e_idx])
    step("fitting the entry chooser")
    chooser = _entry_model().fit(ex_m, e_y)

    meta: dict = {
        "examples": len(examples),
        "gate_examples": len(y),
        "on_topic": int(sum(y)),
        "entry_examples": len(e_idx),
        "files": dict(sorted((digests or {}).items())),
        "writers": dict(sorted(Counter(examples[i].writer for i in gate_idx).items())),
    }
    if evaluate:
        step("leave-one-writer-out and entry figures")
        meta["oof"] = figures(p_oof, y, high)
        meta["oof_band"] = figures(p_oof, y, low)
        meta["leave_one_writer_out"] = _by_writer(g_rows, y, [examples[i].writer for i in gate_idx], vocab, x,
                                                  (a, b), high, vetoed)
        meta["entry_oof_accuracy"] = _entry_oof(e_rows, e_y, [examples[i].group for i in e_idx], e_vocab)

    gate_w = {
        f: round(float(w) * (CHAR_SCALE if f[:2] == "c|" else 1.0), ROUND)
        for f, w in zip(vocab, gate.coef_[0], strict=True)
    }
    coef = np.vstack([est.coef_[0] for est in chooser.estimators_])
    ebias = [round(float(est.intercept_[0]), ROUND) for est in chooser.estimators_]
    entry_w = {}
    for j, f in enumerate(e_vocab):
        col = [round(float(v), ENTRY_ROUND) for v in coef[:, j]]
        if max(abs(v) for v in col) >= PRUNE:
            entry_w[f] = col
    return {
        "format": FORMAT,
        "spec": feats.spec(),
        "gate": {
            "bias": round(float(gate.intercept_[0]), ROUND),
            "calibration": [round(a, 6), round(b, 6)],
            "threshold": high,
            "band": [low, high],
            "weights": {f: w for f, w in gate_w.items() if abs(w) >= PRUNE},
        },
        "entry": {"ids": kb_ids, "bias": ebias, "weights": entry_w},
        "meta": meta,
    }


def _entry_oof(rows, y, groups, vocab) -> float:
    folds = _folds(groups)
    x = _matrix(rows, vocab)
    right = 0
    for k in range(FOLDS):
        tr = [i for i, f in enumerate(folds) if f != k]
        va = [i for i, f in enumerate(folds) if f == k]
        if len(set(y[tr])) < 2 or not va:
            continue
        model = _entry_model().fit(x[tr], y[tr])
        pred = model.classes_[model.decision_function(x[va]).argmax(axis=1)]
        right += int((pred == y[va]).sum())
    return round(right / len(y), 4)


def dumps(model: dict) -> str:
    """The model file's text: sorted keys, compact, one trailing newline."""
    return json.dumps(model, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def train(
    out: Path = MODEL_PATH,
    with_labels: Sequence[Path] = (),
    *,
    evaluate: bool = True,
    step: Callable[[str], None] = lambda what: None,
) -> dict:
    """Train from the shipped data (plus extra labelled JSONL) and write the model file."""
    step("reading the labelled files")
    examples, digests = load_examples(ROOT, with_labels)
    model = fit(examples, digests, evaluate=evaluate, step=step)
    Path(out).write_text(dumps(model), encoding="utf-8")
    return model
