"""Decide whether a post asks about farming with a virtualized node, and which entry answers it.

The decision is a trained model's (`farmhand train`, `knowledge/train.py`), scored here in
pure Python (`knowledge/scorer.py`), with a few rules beside it (`knowledge/vetoes.py`):

1. the gate: a calibrated P(on topic) from word and character n-grams and rule signals;
   at or above the threshold the band is "sure" and the bot may auto-reply; in the abstain
   band [low, threshold) it is "unsure" (silent on auto-replies, shown to moderators);
   below it "off";
2. the vetoes: certain rules that silence a post whatever the model says (a "not for
   farming" clause, a real machine shown as virtualized, another project as the subject);
3. the entry chooser: the best entry for the post (one-vs-rest over the entries), given
   to explicit calls even when the gate says no. Support-only entries never auto-reply.

Every decision names the probability, the band, the strongest features and any veto in
`Match.reasons`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from knowledge import features, scorer, vetoes
from knowledge.model import Entry, Match

log = logging.getLogger(__name__)

# A threshold above 1 (more than any probability) turns auto-replies off.
DEFAULT_ENTRY = "vm-farming"
MAX_INPUT_CHARS = features.MAX_CHARS


class Matcher:
    """Scores posts against a fixed set of entries; build once, call `match` many times."""

    def __init__(
        self, entries: Sequence[Entry], threshold: float | None = None, model: scorer.Model | None = None
    ) -> None:
        self.entries = tuple(entries)
        self.model = model if model is not None else scorer.default_model()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.low = self.model.band[0]
        self._by_id = {e.id: e for e in self.entries}

    def match(self, text: object, *, threshold: float | None = None, candidate: bool = True) -> Match:
        """Judge one post; never raises (junk of any kind gives a clean off-topic Match).

        `candidate=False` (bulk classification, which prints no candidate) runs the entry
        chooser only when the post is sure, the one case where the entry decides the
        outcome; otherwise `Match.candidate` is None and the reasons name no entry. The
        label, entry, score and band are the same either way.
        """
        try:
            chosen = self.threshold if threshold is None else threshold
            return self._match(_as_text(text), chosen, candidate)
        except Exception as exc:  # a matcher bug must not take the bot down with it
            log.exception("matcher failed on a post of %d characters", len(str(text)[:10_000_000]))
            return Match(False, None, 0.0, None, (f"error: {type(exc).__name__}",), band="off")

    def _match(self, raw: str, threshold: float, want_candidate: bool = True) -> Match:
        if not raw.strip():
            return Match(False, None, 0.0, None, ("empty text",), band="off")
        raw = raw[:MAX_INPUT_CHARS]
        # one normalisation and one literal scan, shared by the model and the vetoes
        norm = features.normalize(raw)
        post = features.read(norm)
        s = self.model.gate_read(norm, post)
        v = vetoes.veto(post)
        low = min(self.low, threshold)
        if v is not None:
            band = "off"
        elif s.p >= threshold:
            band = "sure"
        elif s.p >= low:
            band = "unsure"
        else:
            band = "off"
        chooser, chooser_p, candidate = None, 0.0, None
        if want_candidate or band == "sure":
            chooser, chooser_p = self.model.choose(s)
            candidate = chooser if chooser in self._by_id else (DEFAULT_ENTRY if DEFAULT_ENTRY in self._by_id else None)
            if v is not None and v.candidate in self._by_id:
                candidate = v.candidate
        entry = self._by_id.get(candidate) if candidate else None
        reasons = [f"model p={s.p:.3f} (threshold {threshold:.2f}, band [{low:.2f}, {threshold:.2f}))"]
        reasons.append(f"band: {band}")
        reasons += [f"feature {_show(f)} {w:+.2f}" for f, w in s.top]
        if v is not None:
            reasons.append(v.reason)
        if candidate:
            reasons.append(f"entry {candidate} (chooser {chooser} p={chooser_p:.2f})")
        on_topic = band == "sure" and entry is not None and entry.auto_reply
        if band == "sure" and entry is not None and not entry.auto_reply:
            reasons.append(f"entry {entry.id!r} is answered only when called explicitly")
        if band == "unsure":
            reasons.append("unsure: no auto-reply, shown to moderators")
        return Match(
            on_topic=on_topic,
            entry=candidate if on_topic else None,
            score=round(s.p, 4),
            candidate=candidate,
            reasons=tuple(reasons),
            band=band if on_topic or band != "sure" else "unsure",
        )


def _show(feature: str) -> str:
    kind, _, name = feature.partition("|")
    label = {"w": "word", "b": "words", "s": "signal", "k": "cue", "x": "cues"}.get(kind, kind)
    return f"{label} {name!r}"


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value[:65536]).decode("utf-8", errors="replace")
    return ""
