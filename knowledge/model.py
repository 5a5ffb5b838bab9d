"""Knowledge-base entries and the matcher's decision, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class KnowledgeError(ValueError):
    """A knowledge-base file is broken. The message reads ``file:line: problem``; `problems` lists all."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One curated answer (one YAML file under knowledge/entries/)."""

    id: str
    title: str
    short: str  # two sentences
    answer: str  # markdown, fits one Discord message (<= 1,900 characters)
    questions: tuple[str, ...]
    links: tuple[Link, ...]
    related: tuple[str, ...] = ()
    source_file: str = ""
    # Entries that must never be auto-replied (e.g. "my bare-metal node is flagged":
    # that is for support) set this; they are still used for explicit calls.
    auto_reply: bool = True


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's judgement of one post.

    `on_topic` is the auto-reply gate. `entry` is the answering entry when on topic
    (None otherwise); `candidate` is the best entry regardless of the gate, for
    explicit calls (a mention, a slash command) that must always get an answer.
    `reasons` say which words or paraphrases matched, for logs and moderators.
    """

    on_topic: bool
    entry: str | None
    score: float
    candidate: str | None = None
    reasons: tuple[str, ...] = ()
    # "sure" (may auto-reply), "unsure" (the abstain band: silent, shown to moderators), "off".
    band: str = ""

    def why(self, limit: int = 3) -> list[str]:
        """The reasons a JSON line shows: any veto first, then the strongest features."""
        vetoes = [r for r in self.reasons if r.startswith("veto:")]
        return (vetoes + [r for r in self.reasons if r.startswith("feature ")])[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "on_topic": self.on_topic,
            "entry": self.entry,
            "score": round(self.score, 4),
            "candidate": self.candidate,
            "band": self.band or ("sure" if self.on_topic else "off"),
            "reasons": list(self.reasons),
        }
