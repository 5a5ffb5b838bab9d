"""The fitted matcher model at run time: pure Python, no numpy, no scikit-learn.

Reads the JSON file `farmhand train` writes (`knowledge/matcher_model.json` by default) and
scores posts with the same features as training (`knowledge/features.py`):

- `gate(text)`: P(on topic), calibrated, plus the features that pushed it most;
- `entry(...)`: the best knowledge-base entry and its share of the (softmaxed) scores.

A word's unigram and character grams depend on the word alone, so their summed weights are
cached per distinct word (bounded cache): a post costs about one look-up per word.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from knowledge import features as feats

MODEL_PATH = Path(__file__).with_name("matcher_model.json")
FORMAT = 1
WORD_CACHE_LIMIT = 50_000
TOP_FEATURES = 3


@dataclass(frozen=True, slots=True)
class Scored:
    p: float  # calibrated P(on topic)
    entry: str | None
    entry_p: float
    top: tuple[tuple[str, float], ...]  # (feature, contribution to the log-odds), strongest first


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


class Model:
    """The gate and the entry chooser of one model file."""

    __slots__ = (
        "_cache",
        "band",
        "calibration",
        "entry_bias",
        "entry_ids",
        "entry_w",
        "gate_bias",
        "gate_w",
        "meta",
        "threshold",
    )

    def __init__(self, data: dict) -> None:
        gate, entry = data["gate"], data["entry"]
        self.gate_w: dict[str, float] = {str(k): float(v) for k, v in gate["weights"].items()}
        self.gate_bias = float(gate["bias"])
        a, b = gate["calibration"]
        self.calibration = (float(a), float(b))
        self.threshold = float(gate["threshold"])
        low, high = gate["band"]
        self.band = (float(low), float(high))
        self.entry_ids: tuple[str, ...] = tuple(entry["ids"])
        self.entry_bias = tuple(float(v) for v in entry["bias"])
        k = len(self.entry_ids)
        self.entry_w: dict[str, tuple[float, ...]] = {}
        for f, col in entry["weights"].items():
            if len(col) != k:
                raise ValueError(f"entry weights of {f!r}: {len(col)} values for {k} entries")
            self.entry_w[str(f)] = tuple(float(v) for v in col)
        if len(self.entry_bias) != k:
            raise ValueError("entry biases do not match the entries")
        self.meta = dict(data.get("meta") or {})
        self._cache: dict[str, tuple[float, tuple[float, ...] | None]] = {}

    def _word(self, word: str) -> tuple[float, tuple[float, ...] | None]:
        got = self._cache.get(word)
        if got is None:
            names = feats.word_features(word)
            gw = self.gate_w.get
            g = sum(gw(f, 0.0) for f in names)
            vec: list[float] | None = None
            ew = self.entry_w.get
            for f in names:
                col = ew(f)
                if col is not None:
                    vec = list(col) if vec is None else [x + y for x, y in zip(vec, col, strict=True)]
            if len(self._cache) >= WORD_CACHE_LIMIT:
                self._cache.clear()
            got = self._cache[word] = (g, tuple(vec) if vec is not None else None)
        return got

    def score(self, text: str, *, explain: bool = True) -> Scored:
        """Gate probability, best entry and the strongest features of one post."""
        norm = feats.normalize(text)
        ws = feats.tokens(norm)
        n = max(len(ws), 1)
        scale = 1.0 / math.sqrt(n)
        gw, ew = self.gate_w.get, self.entry_w.get
        k = len(self.entry_ids)
        evec = [0.0] * k
        contrib: dict[str, float] = {}
        z = 0.0
        for w, c in Counter(ws).items():
            g, vec = self._word(w)
            z += g * c
            if explain and g:
                contrib["w|" + w] = g * c * scale
            if vec is not None:
                for j in range(k):
                    evec[j] += vec[j] * c
        others = [f"b|{a} {b}" for a, b in pairwise(ws)]
        others += feats.signal_names(norm) + feats.cue_names(norm)
        bigram_count = len(ws) - 1 if ws else 0
        for i, f in enumerate(others):
            v = 1.0 if i < bigram_count else feats.SIGNAL_WEIGHT
            g = gw(f)
            if g is not None:
                z += g * v
                if explain:
                    contrib[f] = contrib.get(f, 0.0) + g * v * scale
            col = ew(f)
            if col is not None:
                for j in range(k):
                    evec[j] += col[j] * v
        z = self.gate_bias + z * scale
        a, b = self.calibration
        p = _sigmoid(a * z + b)
        scores = [self.entry_bias[j] + evec[j] * scale for j in range(k)]
        best = max(range(k), key=scores.__getitem__) if k else -1
        entry_p = 0.0
        if best >= 0:
            top_s = scores[best]
            total = sum(math.exp(s - top_s) for s in scores)
            entry_p = 1.0 / total
        top: tuple[tuple[str, float], ...] = ()
        if explain and contrib:
            ranked = sorted(contrib.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:TOP_FEATURES]
            top = tuple((f, round(v, 3)) for f, v in ranked)
        return Scored(p, self.entry_ids[best] if best >= 0 else None, entry_p, top)


def load(path: str | Path | None = None) -> Model:
    """Read a model file. Raises ValueError naming the file if it is broken or of another spec."""
    path = Path(path) if path is not None else MODEL_PATH
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("spec") != feats.spec():
            raise ValueError("format/feature spec mismatch: retrain with `farmhand train`")
        return Model(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: broken matcher model: {exc}") from exc


@lru_cache(maxsize=4)
def default_model(path: str | None = None) -> Model:
    """The model at `path` (the shipped one by default), loaded once."""
    return load(path)
