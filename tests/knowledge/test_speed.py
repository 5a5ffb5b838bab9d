"""The fast matcher path gives exactly what a straightforward reference gives.

The speed work (issue #10: a literal pre-filter before every regex, one normalisation and
one scan shared by the model and the vetoes, the entry chooser run only when wanted) must not
change a decision. Each test pits one shortcut against the plain code it replaces: every
regex searched on its own, the features summed one by one, the chooser always run. No timing
here: `bench/bench_matcher.py` measures, `bench/dump_decisions.py` diffs whole dumps.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import knowledge
from bot.commands.classify import classify
from knowledge import cues, features, prefilter, scorer, signals, vetoes

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "knowledge" / "data").rglob("*.jsonl")) + sorted((ROOT / "tests" / "fixtures").rglob("*.jsonl"))


def _texts() -> list[str]:
    out = []
    for path in FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                out.append(obj["text"])
    return out


TEXTS = _texts()
# every third post keeps the suite quick and still covers each file and writer
SAMPLE = TEXTS[::3]
INDEXED = list(features._INDEX._gates)
MAIN_GROUPS = (signals.VIRT, signals.FARM, signals.BARE_METAL_WHY, signals.LOOKALIKE, signals.FLAGGED)
assert features._MAIN_GROUPS == MAIN_GROUPS  # the reference reads the groups the scanner reads


class PlainPost:
    """A post whose searches are plain `pattern.search(text)`: the reference for `prefilter.Post`."""

    def __init__(self, text: str) -> None:
        self.text = text

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.search(self.text)

    def has(self, pattern: re.Pattern[str]) -> bool:
        return pattern.search(self.text) is not None


def plain_signal_names(norm: str) -> list[str]:
    post = PlainPost(norm.replace("\n", " "))
    return ["s|" + name for name, test in features.SIGNALS if test(post)]  # type: ignore[arg-type]


def plain_hits(flat: str, groups: tuple) -> list[cues.Hits]:
    """One `search` per cue and its `unless`, as the scanner did before any pre-filter."""
    return [
        cues.to_hits([c for c in group if c.pattern.search(flat) and not (c.unless and c.unless.search(flat))])
        for group in groups
    ]


def plain_cue_names(norm: str) -> list[str]:
    flat = norm.replace("\n", " ")
    hits = plain_hits(flat, MAIN_GROUPS)
    out = [f"k|{g}:{n}" for g, h in zip(features._GROUPS, hits, strict=True) for n in h.names]
    virt, farm, _why, look, flagged = (h.weight > 0 for h in hits)
    if virt and farm:
        out.append("x|virt&farm")
        combo, subject = plain_hits(flat, (signals.COMBO, signals.SUBJECT))
        out += [f"x|combo:{n}" for n in combo.names] + [f"x|subject:{n}" for n in subject.names]
        if not look:
            out.append("x|virt&farm&!lookalike")
        if features.near(flat, hits[0].names, hits[1].names):
            out.append(features.NEAR)
    if flagged and not virt:
        out.append("x|flagged&!virt")
    return out


def plain_score(model: scorer.Model, text: str) -> tuple[float, str | None, float, tuple]:
    """p, entry, entry share and top features summed one feature at a time, plain regexes."""
    norm = features.normalize(text)
    ws = features.tokens(norm)
    scale = 1.0 / math.sqrt(max(len(ws), 1))
    counted: dict[str, float] = {}
    for w in ws:
        for f in features.word_features(w):
            counted[f] = counted.get(f, 0.0) + 1
    for f in features.bigrams(ws):
        counted[f] = counted.get(f, 0.0) + 1
    named = plain_signal_names(norm) + plain_cue_names(norm)
    for f in named:
        counted[f] = features.SIGNAL_WEIGHT
    near = counted.pop(features.NEAR, None)  # the one feature not divided by sqrt(words)
    z = model.gate_bias + scale * sum(model.gate_w.get(f, 0.0) * v for f, v in counted.items())
    if near is not None:
        z += model.gate_w.get(features.NEAR, 0.0) * near
        counted[features.NEAR] = near / scale  # for the entry sum below, which scales by `scale`
    a, b = model.calibration
    p = scorer._sigmoid(a * z + b)
    scores = list(model.entry_bias)
    for f, v in counted.items():
        col = model.entry_w.get(f)
        if col is not None:
            scores = [s + x * v * scale for s, x in zip(scores, col, strict=True)]
    best = max(range(len(scores)), key=scores.__getitem__)
    share = 1.0 / sum(math.exp(s - scores[best]) for s in scores)
    # a unigram's contribution is its word's whole sum (unigram and character grams)
    contrib = {}
    for w in dict.fromkeys(ws):
        g = sum(model.gate_w.get(f, 0.0) for f in features.word_features(w))
        if g:
            contrib["w|" + w] = g * ws.count(w) * scale
    for f in features.bigrams(ws) + named:
        if f in model.gate_w:
            contrib[f] = contrib.get(f, 0.0) + model.gate_w[f] * (1.0 if f == features.NEAR else scale)
    top = tuple(sorted(contrib.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[: scorer.TOP_FEATURES])
    return p, model.entry_ids[best], share, top


def test_every_indexed_pattern_finds_what_a_plain_search_finds():
    for text in SAMPLE:
        flat = features.normalize(text).replace("\n", " ")
        post = features.read(flat)
        for pattern in INDEXED:
            want, got = pattern.search(flat), post.search(pattern)
            assert (want and (want.span(), want.group())) == (got and (got.span(), got.group())), (
                pattern.pattern[:60],
                flat[:200],
            )


# Texts made of the index's own literals, glued with spaces, punctuation and word pieces, so
# that literals sit at and off word boundaries, overlap, and repeat past MAX_TRIES.
_LITERALS = sorted(features._INDEX._closure)
_GLUE = [" ", "", ". ", ", ", "\n", "x", "s", "3", "my ", "a ", "is ", "not ", "no ", "in a ", "?"]
_pieces = st.lists(st.sampled_from(_LITERALS) | st.sampled_from(_GLUE) | st.text(max_size=3), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_pieces)
def test_prefilter_equals_plain_search_on_generated_texts(parts):
    flat = features.normalize("".join(parts)).replace("\n", " ")
    post = features.read(flat)
    for pattern in INDEXED:
        want, got = pattern.search(flat), post.search(pattern)
        assert (want and want.span()) == (got and got.span()), pattern.pattern[:60]
    assert features.signal_names(post) == plain_signal_names(flat)
    assert features.cue_names(post) == plain_cue_names(flat)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab c.d\u00e9"), max_size=30), st.sampled_from(["ab", "b c", "c", "d"]))
def test_first_match_equals_search(text, literal):
    pattern = re.compile(r"\bab\b|b c\.?|\bc(?=d)|d$|(?<=a)b")
    starts = prefilter.prefixes(pattern)
    assert starts is not None
    present = frozenset(w for w in starts if w in text)
    want = pattern.search(text)
    got = prefilter.first_match(pattern, text, present) if present else None
    assert (want and want.span()) == (got and got.span())


def test_literal_analysis_on_known_shapes():
    assert prefilter.prefixes(r"\b(?:a|my) zos") == {"a zos", "my zos"}
    assert prefilter.prefixes(r"3-?nodes?") == {"3-node", "3node"}
    assert prefilter.prefixes(r"x*foo") is None  # may start with anything
    assert prefilter.required(r"(?:^|[.,]\s*)no farming") == {"no farming"}
    assert prefilter.anchored_prefixes(r"\bvm|kvm") == {("vm", True), ("kvm", False)}
    assert prefilter.alternatives(r"a|b(c|d)|[|]|e\|f") == ["a", "b(c|d)", "[|]", r"e\|f"]
    # a verbose pattern is read with its flag: its spaces and comments are no literals
    assert prefilter.prefixes(re.compile(r"\b foo | bar  # c|d", re.VERBOSE)) == {"foo", "bar"}
    assert prefilter.prefixes(re.compile("(?i)vm")) is None  # case-blind: no literal gate


def test_every_leaving_match_holds_a_leaving_word():
    """`leaving-farming` dropped its `in` guard: every match starts with a prefix holding a word."""
    for prefix in prefilter.prefixes(signals.LEAVING) or ():
        assert any(w in prefix for w in signals.LEAVING_WORDS), prefix


def test_signals_cues_and_vetoes_equal_the_plain_regexes():
    for text in SAMPLE:
        norm = features.normalize(text)
        post = features.read(norm)
        assert features.signal_names(post) == plain_signal_names(norm)
        assert features.cue_names(post) == plain_cue_names(norm)
        # the veto reads the post the scorer read; from the text alone it must say the same
        assert vetoes.veto(post) == vetoes.veto(norm)


def test_scorer_equals_the_feature_by_feature_sum():
    model = scorer.default_model()
    for text in SAMPLE[::4]:
        p, entry, share, top = plain_score(model, text)
        s = model.score(text)
        assert abs(s.p - p) < 1e-9 and s.entry == entry and abs(s.entry_p - share) < 1e-9, text[:80]
        assert [f for f, _ in s.top] == [f for f, _ in top], text[:80]
        assert all(abs(v - round(w, 3)) < 1e-9 for (_, v), (_, w) in zip(s.top, top, strict=True))


def _old_normalize(text: str) -> str:
    text = features._CONTROL.sub(" ", text[: features.MAX_CHARS])
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        text = features._CJK_RUN.sub(r" \g<0> ", text)
    return features._SPACE.sub(" ", text.lower())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalize_drops_the_same_marks_as_a_per_character_filter(text):
    assert features.normalize(text) == _old_normalize(text)


@pytest.mark.parametrize("threshold", [None, 0.5, 0.999])
def test_without_candidate_the_decision_is_the_same(threshold):
    """classify skips the chooser unless the post is sure: label, entry, score and band stay."""
    kb = knowledge.default_kb()
    for text in SAMPLE:
        full, lean = kb.match(text, threshold=threshold), kb.match(text, threshold=threshold, candidate=False)
        assert (lean.on_topic, lean.entry, lean.score, lean.band) == (full.on_topic, full.entry, full.score, full.band)
        assert [r for r in lean.reasons if not r.startswith("entry ")] == [
            r for r in full.reasons if not r.startswith("entry ")
        ]


def test_classify_prints_what_the_full_match_says():
    kb = knowledge.default_kb()
    lines = [json.dumps({"id": i, "text": t}).encode() for i, t in enumerate(SAMPLE)]
    out = io.StringIO()
    classify(iter(lines), out)
    for row, text in zip(map(json.loads, out.getvalue().splitlines()), SAMPLE, strict=True):
        m = kb.match(text)
        why = m.why()
        assert row == {
            "id": row["id"],
            "on_topic": m.on_topic,
            "entry": m.entry,
            "score": round(m.score, 4),
            "band": m.band,
            "why": why,
        }
