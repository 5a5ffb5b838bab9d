"""A small learned gate: P(post asks about farming with a virtualized node), from text alone.

An experiment next to the rule-based matcher (see docs/gate-model.md): a logistic
regression over hashed-free sparse features, trained by `bench/train_gate.py` on the
project's own labelled posts and shipped as `knowledge/gate_weights.json` (non-zero
weights only). It is pure Python and offline, needs nothing from the matcher, and is
deterministic: the same text always gets the same score in every process.

Features (all from the first `MAX_CHARS` characters, lower-cased, accents stripped):

- ``w|word``      word unigrams
- ``b|w1 w2``     word bigrams
- ``c|gram``      character 3- to 5-grams inside each word padded as ``<word>``

Each count is divided by sqrt(number of words), so long posts do not saturate the
sigmoid. Because a word's unigram and character-gram weights depend on the word alone,
the scorer caches one float per distinct word; a post then costs one dictionary look-up
per word and one per bigram, which is what keeps it well above 20,000 posts/s.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

log = logging.getLogger(__name__)

WEIGHTS_PATH = Path(__file__).with_name("gate_weights.json")
FORMAT_VERSION = 1
# Titles and first lines carry the question; a 1 MB paste costs what a long post does.
MAX_CHARS = 1500
MAX_WORDS = 300
CHAR_MIN, CHAR_MAX = 3, 5
# The per-word cache is cleared when it grows past this (junk floods of unique words).
WORD_CACHE_LIMIT = 50_000
_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")


def normalize(text: str) -> str:
    """The scored head of a post: capped, control characters blanked, lower case, no accents."""
    text = _CONTROL.sub(" ", text[:MAX_CHARS])
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.lower()


def words(text: str) -> list[str]:
    """The words the model reads (at most MAX_WORDS) of already normalized text."""
    return _WORD.findall(text)[:MAX_WORDS]


def char_grams(word: str) -> list[str]:
    """Character 3- to 5-grams of one word padded as <word>, with repeats."""
    padded = f"<{word}>"
    n = len(padded)
    return [padded[i : i + k] for k in range(CHAR_MIN, CHAR_MAX + 1) for i in range(n - k + 1)]


def word_features(word: str) -> list[str]:
    """Every feature name one word contributes by itself (its unigram and char-grams)."""
    return ["w|" + word, *("c|" + g for g in char_grams(word))]


def features(text: str) -> dict[str, float]:
    """The explicit sparse feature vector of a post (used for training; `score` is equivalent)."""
    ws = words(normalize(text))
    if not ws:
        return {}
    scale = 1.0 / math.sqrt(len(ws))
    out: dict[str, float] = {}
    for w in ws:
        for f in word_features(w):
            out[f] = out.get(f, 0.0) + scale
    for a, b in pairwise(ws):
        f = f"b|{a} {b}"
        out[f] = out.get(f, 0.0) + scale
    return out


def sigmoid(z: float) -> float:
    """The logistic function, safe for any finite or infinite z."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


class GateModel:
    """Linear weights over `features`, with a per-word score cache for speed."""

    __slots__ = ("_word_cache", "bias", "meta", "weights")

    def __init__(self, weights: dict[str, float], bias: float, meta: dict | None = None) -> None:
        self.weights = weights
        self.bias = bias
        self.meta = meta or {}
        self._word_cache: dict[str, float] = {}

    def _word_weight(self, word: str) -> float:
        cached = self._word_cache.get(word)
        if cached is None:
            get = self.weights.get
            cached = sum(get(f, 0.0) for f in word_features(word))
            if len(self._word_cache) >= WORD_CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = cached
        return cached

    def decision(self, text: str) -> float:
        """The raw linear score (log-odds) of a post."""
        ws = words(normalize(text))
        if not ws:
            return self.bias
        get = self.weights.get
        total = sum(self._word_weight(w) for w in ws)
        total += sum(get(f"b|{a} {b}", 0.0) for a, b in pairwise(ws))
        return self.bias + total / math.sqrt(len(ws))

    def score(self, text: object) -> float:
        """P(vm_farming) in [0, 1]. Never raises: bad input (None, bytes, junk) scores safely."""
        try:
            if isinstance(text, bytes | bytearray):
                text = bytes(text[: MAX_CHARS * 4]).decode("utf-8", "replace")
            if not isinstance(text, str):
                text = "" if text is None else str(text)
            return sigmoid(self.decision(text))
        except Exception:  # a scorer bug must never take the bot down
            log.exception("gate model failed on a post")
            return 0.0

    def to_json(self) -> dict:
        """The weights file content: only non-zero weights, sorted for stable diffs."""
        return {
            "version": FORMAT_VERSION,
            "spec": spec(),
            "bias": self.bias,
            "meta": self.meta,
            "weights": {k: self.weights[k] for k in sorted(self.weights) if self.weights[k] != 0.0},
        }


def spec() -> dict:
    """The feature settings a weights file was trained with (checked on load)."""
    return {
        "max_chars": MAX_CHARS,
        "max_words": MAX_WORDS,
        "char": [CHAR_MIN, CHAR_MAX],
        "scale": "sqrt_words",
    }


def load(path: str | Path | None = None) -> GateModel:
    """Read a weights file. Raises ValueError naming the file if it is broken or of another spec."""
    path = Path(path) if path is not None else WEIGHTS_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION or data.get("spec") != spec():
            raise ValueError(f"version/spec mismatch (expected {FORMAT_VERSION} {spec()})")
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        return GateModel(weights, float(data["bias"]), dict(data.get("meta") or {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: broken gate weights: {exc}") from exc


@lru_cache(maxsize=1)
def default_model() -> GateModel:
    """The bundled model, loaded once."""
    return load()


def score(text: object) -> float:
    """P(vm_farming) of a post with the bundled model, in [0, 1]; never raises on any input."""
    return default_model().score(text)
