"""Every knowledge-base problem, as `file:line: message` lines (`farmhand kb check`).

Per-file problems (broken YAML, missing, unknown or mistyped fields, keys given twice, bad
links) come from the loader; this module adds the rules that need the text or the whole set: answer length,
the two-sentence `short`, question count, duplicate ids, dead `related` ids and
near-duplicate questions shared by two entries (which would make the matcher's choice
between them a coin toss).
"""

from __future__ import annotations

import re
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.loader import MAX_ANSWER_CHARS, MIN_QUESTIONS, Located, in_order, plural, read_entries
from knowledge.text import normalize

# Two questions of different entries this similar (rapidfuzz ratio, 0-100) count as one.
NEAR_DUPLICATE = 92.0
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def sentence_count(text: str) -> int:
    """Rough sentence count: terminal punctuation followed by a space or the end."""
    return len(_SENTENCE_END.findall(text.strip()))


def check_located(located: list[Located]) -> list[str]:
    """Problems that need the entry text or the whole set of entries (only fields that read cleanly)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    ids = {item.entry.id for item in located if item.entry.id}
    for item in located:
        e, lines, f, ok = item.entry, item.lines, item.entry.source_file, item.clean
        if "id" in ok and e.id in seen:
            problems.append(f"{f}:{lines['id']}: duplicate id {e.id!r} (also in {seen[e.id]})")
        elif "id" in ok:
            seen[e.id] = f
        if "answer" in ok and len(e.answer) > MAX_ANSWER_CHARS:
            problems.append(
                f"{f}:{lines['answer']}: answer is {len(e.answer)} characters, more than {MAX_ANSWER_CHARS}"
            )
        n = sentence_count(e.short)
        if "short" in ok and not 2 <= n <= 3:
            problems.append(f"{f}:{lines['short']}: 'short' should be two sentences, found {n}")
        if "questions" in ok and len(e.questions) < MIN_QUESTIONS:
            problems.append(
                f"{f}:{lines['questions']}: only {plural(len(e.questions), 'question')}, "
                f"at least {MIN_QUESTIONS} needed"
            )
        for rid in e.related if "related" in ok else ():
            if rid not in ids:
                problems.append(f"{f}:{lines.get('related', 1)}: related id {rid!r} is not an entry")
            elif rid == e.id:
                problems.append(f"{f}:{lines.get('related', 1)}: an entry cannot be related to itself")
        if "links" in ok and not e.links:
            problems.append(f"{f}:{lines['links']}: at least one source link is needed")
        normalized = [normalize(q) for q in e.questions]
        for i, q in enumerate(normalized):
            if q in normalized[:i]:
                problems.append(f"{f}:{item.question_lines[i]}: question listed twice: {e.questions[i]!r}")
    problems.extend(_near_duplicates(located))
    return problems


def _near_duplicates(located: list[Located]) -> list[str]:
    owners: list[tuple[Located, int]] = []
    texts: list[str] = []
    for item in located:
        for i, q in enumerate(item.entry.questions):
            owners.append((item, i))
            texts.append(normalize(q))
    if not texts:
        return []
    problems: list[str] = []
    for a, text in enumerate(texts):
        hits = process.extract(text, texts, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, limit=None)
        for _choice, _score, b in sorted(hits, key=lambda h: h[2]):
            if b > a and owners[a][0].entry.id != owners[b][0].entry.id:
                (ia, qa), (ib, qb) = owners[a], owners[b]
                problems.append(
                    f"{ia.entry.source_file}:{ia.question_lines[qa]}: question {ia.entry.questions[qa]!r} "
                    f"nearly duplicates {ib.entry.questions[qb]!r} of entry {ib.entry.id!r} "
                    f"({ib.entry.source_file}:{ib.question_lines[qb]})"
                )
    return problems


def check(directory: str | Path | None = None) -> list[str]:
    """All problems of a knowledge-base directory (default: the bundled one)."""
    located, problems = read_entries(directory)
    return in_order(problems + check_located(located))
