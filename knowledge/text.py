"""Text normalization shared by the matcher and kb check."""

from __future__ import annotations

import re
import unicodedata

# The matcher scores at most this much of a post: enough for any real question, and it
# keeps a 1 MB paste as fast as a one-liner.
MAX_SCORED_CHARS = 4000
_SPACE = re.compile(r"\s+")
# Control characters (binary junk) become spaces so they never glue two words together.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "im",
        "i'm",
        "my",
        "me",
        "to",
        "is",
        "it",
        "its",
        "in",
        "on",
        "of",
        "for",
        "and",
        "or",
        "do",
        "does",
        "can",
        "could",
        "would",
        "will",
        "be",
        "there",
        "this",
        "that",
        "so",
        "just",
        "any",
        "with",
        "at",
        "as",
        "are",
        "was",
    ]
)
_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*")
# Chinese, Japanese and Korean write without spaces, so a Latin word inside them ("在VPS上",
# "ESXiの仮想マシン") has no word boundary for the cues' \b. A space around each run of
# CJK characters gives Latin words their boundaries; CJK cues carry no \b and still match.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def normalize(text: str, limit: int = MAX_SCORED_CHARS) -> str:
    """Lower-case, accents stripped, control characters and runs of whitespace collapsed."""
    text = text[:limit]
    text = _CONTROL.sub(" ", text)
    if not text.isascii():
        # NFKD splits "é" into "e" + a combining mark; dropping the marks lets "maquina"
        # match "máquina" while Cyrillic and CJK letters stay as they are.
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        text = _CJK_RUN.sub(r" \g<0> ", text)
    return _SPACE.sub(" ", text.lower()).strip()


def content_words(text: str) -> str:
    """The words of normalized text without the commonest stop words (for fuzzy matching)."""
    return " ".join(w for w in _WORD.findall(text) if w not in _STOP)
