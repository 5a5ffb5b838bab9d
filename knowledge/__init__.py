"""The curated knowledge base (YAML entries) and the question matcher.

Public API (the rest of the bot codes against this):
`load`, `default_kb`, `check`, `KnowledgeBase`, `render_answer`.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge import scorer
from knowledge.check import check, check_located
from knowledge.loader import MAX_ANSWER_CHARS, in_order, plural, read_entries
from knowledge.matcher import Matcher
from knowledge.model import Entry, KnowledgeError, Link, Match
from knowledge.text import normalize

__all__ = [
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Link",
    "Match",
    "check",
    "default_kb",
    "load",
    "render_answer",
]

log = logging.getLogger(__name__)


class KnowledgeBase:
    """A validated set of entries and the matcher built over them."""

    def __init__(
        self, entries: tuple[Entry, ...], threshold: float | None = None, model: scorer.Model | None = None
    ) -> None:
        self.entries = entries
        self._by_id = {e.id: e for e in entries}
        self._matcher = Matcher(entries, threshold, model)
        self.threshold = self._matcher.threshold  # the model's own unless given

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    def match(self, text: str, *, threshold: float | None = None, candidate: bool = True) -> Match:
        """Judge a post: on topic or not, the best entry, score and reasons. Never raises.

        `candidate=False` skips the entry chooser unless the post is sure (`Matcher.match`).
        """
        chosen = self.threshold if threshold is None else threshold
        return self._matcher.match(text, threshold=chosen, candidate=candidate)

    def search(self, query: str, limit: int = 25) -> list[Entry]:
        """Entries for autocomplete: id/title substring hits first, then fuzzy matches."""
        q = normalize(query or "", 200)
        if not q:
            return list(self.entries[:limit])
        hits = [e for e in self.entries if q in e.id or q in normalize(e.title)]
        if len(hits) < limit:
            choices = {e.id: normalize(" ".join((e.id, e.title, *e.questions))) for e in self.entries}
            ranked = process.extract(q, choices, scorer=fuzz.partial_ratio, limit=None, score_cutoff=60)
            hits += [self._by_id[key] for _c, _s, key in ranked if self._by_id[key] not in hits]
        return hits[:limit]


def load(directory: str | Path | None = None, model_path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a KB directory (default: the bundled entries).

    Raises KnowledgeError("file:line: message"; every problem in its `problems`) on any
    problem, so a broken KB stops start-up instead of failing at the first question. `model_path` is a model written by
    `farmhand train` (the shipped one when None).
    """
    located, problems = read_entries(directory)
    problems = in_order(problems + check_located(located))
    if problems:
        more = len(problems) - 1
        tail = f" (and {plural(more, 'more problem')}; `farmhand kb check` lists them)" if more else ""
        raise KnowledgeError(problems[0] + tail, problems)
    try:
        model = scorer.default_model(None if model_path is None else str(model_path))
    except ValueError as exc:  # a broken model file stops start-up too
        raise KnowledgeError(str(exc).splitlines()[0]) from None
    return KnowledgeBase(tuple(item.entry for item in located), model=model)


@lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once."""
    return load()


def render_answer(entry: Entry) -> str:
    """The entry's answer plus a "Sources:" line of its links, within one Discord message."""
    body = entry.answer.strip()
    # <url> keeps Discord from unfurling a preview card for every source.
    links = [f"[{link.title}](<{link.url}>)" for link in entry.links]
    while links:
        text = f"{body}\n\nSources: " + " · ".join(links)
        if len(text) <= MAX_ANSWER_CHARS:
            return text
        links.pop()  # drop the least important (last) source until it fits
    return body[:MAX_ANSWER_CHARS]
