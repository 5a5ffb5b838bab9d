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
from itertools import chain, compress, pairwise
from operator import add
from pathlib import Path

from knowledge import features as feats
from knowledge import prefilter

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


@dataclass(frozen=True, slots=True)
class Gated:
    """The gate's verdict on one post, and what the entry chooser needs to run later."""

    p: float  # calibrated P(on topic)
    top: tuple[tuple[str, float], ...]
    scale: float  # 1 / sqrt(words)
    # (entry column, count) of every feature read that has one, in reading order: the
    # chooser sums them only when its answer is wanted (most posts are not on topic).
    columns: tuple[tuple[tuple[float, ...], float], ...]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


class Model:
    """The gate and the entry chooser of one model file."""

    __slots__ = (
        "_cache",
        "_entry_grams",
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
        weights = gate["weights"]
        if not isinstance(weights, dict):
            raise TypeError("gate weights are not an object")
        # JSON object keys are strings and its numbers need no conversion for sums; checking
        # the types once is cheaper than rebuilding a dict of 140,000 weights at start-up.
        if not set(map(type, weights.values())) <= {float, int}:
            raise TypeError("a gate weight is not a number")
        self.gate_w: dict[str, float] = weights
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
            self.entry_w[f] = tuple(col)
        if len(self.entry_bias) != k:
            raise ValueError("entry biases do not match the entries")
        self.meta = dict(data.get("meta") or {})
        self._cache: dict[str, tuple[float, tuple[float, ...] | None]] = {}
        # whether the entry chooser has character-gram weights (the shipped one has none)
        self._entry_grams = any(f.startswith("c|") for f in self.entry_w)

    def _word(self, word: str) -> tuple[float, tuple[float, ...] | None]:
        """Summed gate weight and entry column of one word's unigram and character grams."""
        got = self._cache.get(word)
        if got is None:
            names = feats.word_features(word)
            gw, ew = self.gate_w.get, self.entry_w.get
            g = sum(gw(f, 0.0) for f in names)
            col: tuple[float, ...] | None
            if self._entry_grams:
                vec: list[float] | None = None
                for col in [col for f in names if (col := ew(f)) is not None]:
                    vec = list(col) if vec is None else [x + y for x, y in zip(vec, col, strict=True)]
                col = tuple(vec) if vec is not None else None
            else:  # the chooser reads no character grams: the unigram's column is the sum
                col = ew(names[0])
            if len(self._cache) >= WORD_CACHE_LIMIT:
                self._cache.clear()
            got = self._cache[word] = (g, col)
        return got

    def score(self, text: str, *, explain: bool = True) -> Scored:
        """Gate probability, best entry and the strongest features of one post."""
        norm = feats.normalize(text)
        return self.score_read(norm, feats.read(norm), explain=explain)

    def score_read(self, norm: str, post: prefilter.Post, *, explain: bool = True) -> Scored:
        """`score` of normalised text and the post `features.read` made of it."""
        gated = self.gate_read(norm, post, explain=explain)
        entry, entry_p = self.choose(gated)
        return Scored(gated.p, entry, entry_p, gated.top)

    def gate_read(self, norm: str, post: prefilter.Post, *, explain: bool = True) -> Gated:
        """The gate alone on normalised text and its post (shared with the vetoes, so the
        rule regexes run once per post); `choose` finishes the entry choice when wanted.

        The sums run in the same order as a plain per-feature loop over `features.features`
        (tests/knowledge/test_speed.py), so the floats are the same.
        """
        ws = feats.tokens(norm)
        n = max(len(ws), 1)
        scale = 1.0 / math.sqrt(n)
        columns: list[tuple[tuple[float, ...], float]] = []
        keep = columns.append
        by_word: dict[str, float] = {}  # "w|" + word: named only if among the strongest
        contrib: dict[str, float] = {}
        z = 0.0
        cache, word = self._cache, self._word
        for w, c in Counter(ws).items():
            got = cache.get(w)
            g, vec = got if got is not None else word(w)
            gc = g * c
            z += gc
            if explain and g:
                by_word[w] = gc * scale
            if vec is not None:
                keep((vec, c))
        gw, ew = self.gate_w.get, self.entry_w.get
        # bigrams count 1.0 each, signals and cues SIGNAL_WEIGHT; the look-ups run in C (map)
        bigrams = [f"b|{a} {b}" for a, b in pairwise(ws)]
        named = feats.signal_names(post) + feats.cue_names(post)
        v = feats.SIGNAL_WEIGHT
        near = [feats.NEAR] if feats.NEAR in named else []  # not divided by sqrt(words)
        if near:
            named.remove(feats.NEAR)
        # Most bigrams have no weight: `compress` keeps the ones that do without a Python step
        # per bigram (the same features in the same order, so the same sums).
        has_g, has_e = self.gate_w.__contains__, self.entry_w.__contains__
        for names, weight in ((bigrams, 1.0), (named, v)):
            for f in compress(names, map(has_g, names)):
                gv = gw(f) * weight
                z += gv
                if explain:
                    contrib[f] = contrib.get(f, 0.0) + gv * scale
            columns += [(ew(f), weight) for f in compress(names, map(has_e, names))]
        z = self.gate_bias + z * scale
        for f in near:
            g = gw(f)
            if g is not None:
                z += g * v
                if explain:
                    contrib[f] = contrib.get(f, 0.0) + g * v
            col = ew(f)
            if col is not None:
                columns.append((col, v / scale))  # choose() scales every column back down
        a, b = self.calibration
        p = _sigmoid(a * z + b)
        top = _strongest(by_word, contrib) if explain else ()
        return Gated(p, top, scale, tuple(columns))

    def choose(self, gated: Gated) -> tuple[str | None, float]:
        """The best entry for a gated post and its share of the softmaxed scores."""
        k = len(self.entry_ids)
        if not k:
            return None, 0.0
        evec = [0.0] * k
        for col, c in gated.columns:
            # e + x * 1 is e + x exactly: most columns come once, so map() adds them in C
            if c == 1:
                evec = list(map(add, evec, col))
            else:
                evec = [e + x * c for e, x in zip(evec, col, strict=True)]
        scale = gated.scale
        scores = [bias + e * scale for bias, e in zip(self.entry_bias, evec, strict=True)]
        best = max(range(k), key=scores.__getitem__)
        top_s = scores[best]
        total = sum(math.exp(s - top_s) for s in scores)
        return self.entry_ids[best], 1.0 / total


def _strongest(by_word: dict[str, float], contrib: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """The TOP_FEATURES largest contributions by size, ties by name (rounded to 3 places);
    `by_word` holds the unigrams' by bare word.

    Same as sorting every item by (-|v|, name): only the items at least as large as the
    TOP_FEATURES-th size can be among them, and those few are sorted.
    """
    sizes = sorted(map(abs, chain(by_word.values(), contrib.values())), reverse=True)
    if not sizes:
        return ()
    cut = sizes[min(TOP_FEATURES, len(sizes)) - 1]
    items = [("w|" + w, v) for w, v in by_word.items() if v >= cut or v <= -cut]
    items += [(f, v) for f, v in contrib.items() if v >= cut or v <= -cut]
    ranked = sorted(items, key=lambda kv: (-abs(kv[1]), kv[0]))[:TOP_FEATURES]
    return tuple((f, round(v, 3)) for f, v in ranked)


def load(path: str | Path | None = None) -> Model:
    """Read a model file. Raises ValueError naming the file if it is broken or of another spec."""
    path = Path(path) if path is not None else MODEL_PATH
    try:
        data = _loads(Path(path).read_bytes())
        if data.get("format") != FORMAT or data.get("spec") != feats.spec():
            raise ValueError("format/feature spec mismatch: retrain with `farmhand train`")
        return Model(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: broken matcher model: {exc}") from exc


def _loads(raw: bytes) -> dict:
    """The model file's JSON: orjson where it is installed (4x faster on 2.8 MB), else json."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; json reads the same file
        return json.loads(raw.decode("utf-8"))
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # a ValueError too; the message names the place
        raise ValueError(str(exc)) from exc


@lru_cache(maxsize=4)
def default_model(path: str | None = None) -> Model:
    """The model at `path` (the shipped one by default), loaded once."""
    return load(path)
