"""The moderators' digest: decisions (from the audit log, or from a replay) as a markdown report.

It answers three questions before and after going live: what did (or, in shadow mode,
would) the bot answer, with which entry, how sure and where; which posts fell just under
the threshold (near misses, to judge whether it is set right); and which on-topic posts it
held back (a human had answered, staff, opted out, cool-down). Records carry ids, entry,
score and reason only: the digest never shows message text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.state import audit_url

SILENT = "silent"
NEAR_MARGIN = 0.10  # "just under the threshold": within this much of it
MAX_ROWS = 200  # per table; a week on a busy forum stays readable


class DecisionLike(Protocol):
    """What the digest reads from a record: `bot.state.DecisionRecord`, or a replayed post."""

    @property
    def at(self) -> datetime | None: ...
    @property
    def platform(self) -> str: ...
    @property
    def where(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def entry(self) -> str | None: ...
    @property
    def score(self) -> float | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def verdict(self) -> str | None: ...
    @property
    def mode(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def posted(self) -> bool: ...


_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`90m`, `24h`, `7d`, `2w` before now, or an ISO date/time (UTC); ValueError with one line otherwise."""
    now = now or datetime.now(UTC)
    m = _SINCE.match(text or "")
    if m:
        return now - timedelta(**{_UNITS[m[2].lower()]: int(m[1])})
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since must look like 90m, 24h, 7d, 2w or 2024-05-01, not {text!r}") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def describe_since(text: str) -> str:
    """`--since` in words: `7d` -> "the last 7 days", `1h` -> "the last hour", a date -> "since 2024-05-01"."""
    m = _SINCE.match(text or "")
    if m:
        n, unit = int(m[1]), _UNITS[m[2].lower()]
        return f"the last {unit[:-1]}" if n == 1 else f"the last {n} {unit}"
    return f"since {text.strip()}"


def _cell(value: object) -> str:
    """A markdown table cell: one line, pipes escaped."""
    text = "-" if value is None or value == "" else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _link(rec: DecisionLike) -> str:
    label = getattr(rec, "title", None) or f"{rec.platform} {rec.item_id}"
    label = _cell(label if len(label) <= 80 else label[:77] + "...").replace("[", "\\[").replace("]", "\\]")
    url = audit_url(rec.url)  # never a slug, whatever wrote the row
    if not url:
        return label
    url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("|", "%7C")
    return f"[{label}]({url})"


def _when(rec: DecisionLike) -> str:
    return rec.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if rec.at else "-"


def _score(rec: DecisionLike) -> str:
    return "-" if rec.score is None else f"{rec.score:.2f}"


def _status(rec: DecisionLike) -> str:
    if rec.posted:
        return "posted"
    if rec.mode == "shadow":
        return "shadow (not posted)"
    if rec.mode == "replay":
        return "would answer"
    return "not posted"


def _table(header: Sequence[str], rows: list[list[str]], limit: int = MAX_ROWS) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        out.append(f"\n_... and {len(rows) - limit} more._")
    return out


def _counts(title: str, counter: Counter[str], label: str) -> list[str]:
    if not counter:
        return []
    rows = [[_cell(k), str(v)] for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ["", f"### {title}", "", *_table([label, "count"], rows)]


def render_digest(
    records: Iterable[DecisionLike],
    *,
    title: str,
    threshold: float,
    period: str | None = None,
    near_margin: float = NEAR_MARGIN,
    extra: Sequence[str] = (),
) -> str:
    """The markdown digest of `records` (oldest first); `extra` sections are appended as they are."""
    recs = list(records)
    answered = [r for r in recs if r.action != SILENT]
    silent = [r for r in recs if r.action == SILENT]
    near = sorted(
        (r for r in silent if r.score is not None and threshold - near_margin <= r.score < threshold),
        key=lambda r: -(r.score or 0.0),
    )
    held = [r for r in silent if r.score is not None and r.score >= threshold]
    verdicts = Counter(r.verdict for r in recs if r.verdict)
    modes = sorted({r.mode for r in recs})

    lines = [f"# {title}", ""]
    facts = [f"{len(recs)} decisions", f"auto-reply threshold {threshold:.2f}"]
    if any(r.mode == "replay" for r in recs):
        facts[0] = f"{len(recs)} posts the bot could auto-answer"
    if period:
        facts.insert(0, period)
    if modes:
        facts.append("mode " + ", ".join(modes))
    lines.append(" · ".join(facts))
    if not recs:
        lines += ["", "No decisions in this period."]
        lines += ["", *extra] if extra else []
        return "\n".join(lines).rstrip() + "\n"

    summary = [
        ["answered (posted)", str(sum(r.posted for r in answered))],
        [
            "would have answered (shadow / replay)",
            str(sum(not r.posted and r.mode != "live" for r in answered)),
        ],
        [
            "decided to answer, not posted (live)",
            str(sum(not r.posted and r.mode == "live" for r in answered)),
        ],
        ["dump verdicts", str(sum(verdicts.values()))],
        [f"near misses (score {threshold - near_margin:.2f} to {threshold:.2f})", str(len(near))],
        ["on topic but held back", str(len(held))],
        ["silent", str(len(silent))],
    ]
    lines += ["", "## Summary", "", *_table(["", "count"], summary)]
    lines += _counts("By outcome", Counter(r.action for r in recs), "outcome")
    lines += _counts("Answers by entry", Counter(r.entry or "-" for r in answered), "entry")
    lines += _counts("Verdicts by kind", verdicts, "verdict")

    lines += [
        "",
        "## Answered" + (" (or would have been)" if any(not r.posted for r in answered) else ""),
        "",
    ]
    if answered:
        rows = [
            [
                _when(r),
                r.platform,
                _cell(r.action),
                _cell(r.entry),
                _score(r),
                _cell(r.verdict),
                _status(r),
                _link(r),
            ]
            for r in answered
        ]
        lines += _table(
            ["when (UTC)", "platform", "outcome", "entry", "score", "verdict", "status", "post"], rows
        )
    else:
        lines.append("Nothing.")

    lines += ["", f"## Near misses (within {near_margin:.2f} under the threshold)", ""]
    if near:
        rows = [[_when(r), r.platform, _cell(r.entry), _score(r), _link(r), _cell(r.reason)] for r in near]
        lines += _table(["when (UTC)", "platform", "closest entry", "score", "post", "reason"], rows)
    else:
        lines.append("None.")

    if held:
        lines += ["", "## On topic but held back", ""]
        rows = [[_when(r), r.platform, _cell(r.entry), _score(r), _link(r), _cell(r.reason)] for r in held]
        lines += _table(["when (UTC)", "platform", "entry", "score", "post", "why not answered"], rows)

    if extra:
        lines += ["", *extra]
    return "\n".join(lines).rstrip() + "\n"
