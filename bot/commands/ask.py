"""`farmhand ask [TEXT...|-] [--json]`: would the bot answer this text, and with what.

The question may be given unquoted (`farmhand ask can I farm in a vm`). The human output
opens with the on-topic line, which states the model's probability and the threshold it was
compared with; then why, where every quoted phrase is one found in the question itself (in the
question's own spelling), never a normalised form or a cue the question does not contain.
`--json` adds the threshold, the band, `why` (as `classify` writes it: any veto, then the
strongest features) and the matcher's reasons unchanged.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import unicodedata

from knowledge import KnowledgeError, default_kb, render_answer
from knowledge.model import Match

MAX_INPUT_BYTES = 10 * 1024 * 1024


PASTE_HINT = "Type or paste the question, then press Ctrl-D on a new line (Ctrl-C to cancel)."


def _read(words: list[str] | str) -> str:
    if isinstance(words, str):
        words = [words]
    if words and words != ["-"]:
        return " ".join(words)
    from bot.inputs import stdin_binary

    # Bytes, not text: binary junk on stdin must not raise UnicodeDecodeError.
    return stdin_binary(PASTE_HINT).read(MAX_INPUT_BYTES).decode("utf-8", errors="replace")


# -- phrases found in the question ---------------------------------------------------------


class _Question:
    """The question folded as the matcher folds it (lower case, no accents), with a map back
    to the original characters, so a phrase the matcher saw is quoted as the question has it."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded: list[str] = []
        where: list[int] = []
        for i, ch in enumerate(text):
            f = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()
            for c in f:
                folded.append(c)
                where.append(i)
        self.folded = "".join(folded)
        self._where = where

    def find(self, pattern: str) -> str | None:
        """The question's own text where `pattern` matches the folded question, or None."""
        m = re.search(pattern, self.folded)
        if m is None or m.end() == m.start():
            return None
        return self.text[self._where[m.start()] : self._where[m.end() - 1] + 1]


def _word_pattern(word: str) -> str:
    # The model collapses digits to 0 ("3node" is read as "0node").
    return r"\d+".join(re.escape(part) for part in word.split("0"))


_WB, _WE = r"(?<![^\W_])", r"(?![^\W_])"


def _phrase(kind: str, name: str, q: _Question) -> str | None:
    """The question's text behind one model feature, or None when it cannot be shown."""
    if kind == "w":
        return q.find(_WB + _word_pattern(name) + _WE)
    if kind == "b":
        a, _, b = name.partition(" ")
        return q.find(_WB + _word_pattern(a) + r"[\W_]+" + _word_pattern(b) + _WE)
    if kind == "c":
        core = _word_pattern(name.strip("<>"))
        start = _WB if name.startswith("<") else ""
        end = _WE if name.endswith(">") else ""
        return q.find(r"[^\W_]*" + start + core + end + r"[^\W_]*")
    return None


def _cue_text(group_and_name: str, q: _Question) -> str | None:
    from knowledge import signals

    group, _, name = group_and_name.partition(":")
    groups = {
        "virt": signals.VIRT,
        "farm": signals.FARM,
        "why": signals.BARE_METAL_WHY,
        "lookalike": signals.LOOKALIKE,
        "flagged": signals.FLAGGED,
        "combo": signals.COMBO,
        "subject": signals.SUBJECT,
    }
    for cue in groups.get(group, ()):
        if cue.name == name:
            m = cue.pattern.search(q.folded.replace("\n", " "))
            return (
                q.text[q._where[m.start()] : q._where[m.end() - 1] + 1] if m and m.end() > m.start() else None
            )
    return None


_CUE_GROUP = {
    "virt": "virtualisation",
    "farm": "farming",
    "why": "asking why bare metal",
    "lookalike": "a look-alike topic",
    "flagged": "a node flagged",
    "combo": "virtualisation with farming",
    "subject": "the subject",
}
_CONJUNCTION = {
    "virt&farm": "virtualisation and farming named together",
    "virt&farm&!lookalike": "virtualisation and farming, and no look-alike topic",
    "flagged&!virt": "a flagged node, without a virtualisation word",
    "near:virt&farm": "virtualisation and farming in the same clause",
}
_FEATURE = re.compile(r"^feature (\w+) (.+) ([+-]\d+\.\d+)$")
_KINDS = {"word": "w", "words": "b", "signal": "s", "cue": "k", "cues": "x"}
_QUOTED = re.compile(r"\((['\"])(.*?)\1(.*)\)$")


def explain(reason: str, q: _Question) -> str | None:
    """One reason of the matcher in words for the terminal; None when it would quote a phrase
    that is not in the question (or repeats the on-topic line)."""
    if reason.startswith(("model p=", "band: ")):
        return None  # said by the on-topic line
    m = _FEATURE.match(reason)
    if m is None:
        if reason.startswith("veto: "):
            quoted = _QUOTED.search(reason)
            if quoted:
                found = q.find(r"\s+".join(re.escape(w) for w in quoted[2].split()))
                head = reason[: quoted.start()].rstrip()
                return f"{head} (“{found}”{quoted[3]})" if found else head
        return reason
    label, shown, weight = m[1], m[2], m[3]
    try:
        name = str(ast.literal_eval(shown))
    except (ValueError, SyntaxError):
        return None
    kind = _KINDS.get(label, label)
    if kind == "s":
        return f"rule {name} {weight}"
    if kind == "k":
        group = name.partition(":")[0]
        text = _cue_text(name, q)
        return f"{_CUE_GROUP.get(group, group)}: “{text}” {weight}" if text else None
    if kind == "x":
        if name.startswith(("combo:", "subject:")):
            text = _cue_text(name, q)
            return f"{_CUE_GROUP[name.partition(':')[0]]}: “{text}” {weight}" if text else None
        return f"{_CONJUNCTION.get(name, name)} {weight}"
    text = _phrase(kind, name, q)
    if text is None:
        return None
    if kind == "c":
        return f"part of “{text}” {weight}"
    return f"“{text}” {weight}"


# -- the on-topic line ---------------------------------------------------------------------


def _p(p: float, threshold: float) -> str:
    """p to 2 decimals, or 3 when 2 would hide which side of the threshold it is on."""
    two = f"{p:.2f}"
    if (p < threshold and float(two) >= threshold) or (p >= threshold and float(two) < threshold):
        return f"{p:.3f}"
    if p < 1 and two == "1.00":
        return f"{p:.3f}"
    return two


def verdict_line(m: Match, threshold: float) -> str:
    """`on topic: p 0.97 ≥ threshold 0.90 (band sure), entry X`, or why not."""
    band = m.band or ("sure" if m.on_topic else "off")
    cmp = f"p {_p(m.score, threshold)} {'≥' if m.score >= threshold else '<'} threshold {threshold:.2f}"
    if m.on_topic:
        return f"on topic: {cmp} (band {band}), entry {m.entry}"
    vetoed = next((r for r in m.reasons if r.startswith("veto: ")), None)
    if vetoed:
        why = "vetoed"
    elif m.score >= threshold and band != "off":
        why = "its entry is answered only when called explicitly"
    elif band == "unsure":
        why = "unsure: no auto-reply, shown to moderators"
    else:
        why = ""
    hint = f"; closest entry for an explicit call: {m.candidate}" if m.candidate else ""
    return f"on topic: no, {cmp} (band {band}{', ' + why if why else ''}){hint}"


def main(args: argparse.Namespace) -> int:
    try:
        kb = default_kb()
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = _read(args.text)
    m = kb.match(text)
    entry = kb.get(m.entry) if m.entry else None
    reply = render_answer(entry) if entry is not None and m.on_topic else None
    if args.json:
        out = {
            "on_topic": m.on_topic,
            "entry": m.entry,
            "score": round(m.score, 4),
            "threshold": kb.threshold,
            "reply": reply,
            "candidate": m.candidate,
            "band": m.to_dict()["band"],
            "why": m.why(),
            "reasons": list(m.reasons),
        }
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(verdict_line(m, kb.threshold))
    q = _Question(text)
    for reason in m.reasons:
        line = explain(reason, q)
        if line:
            print(f"  - {line}")
    if reply:
        print()
        print(reply)
    return 0
