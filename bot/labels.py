"""Moderators' decisions as labelled examples: masking, the decision vocabulary, the training export.

Every human decision about a post the matcher was unsure of (or wrong about) is a label:

| decision   | where it comes from                                        | label        | entry       |
|------------|------------------------------------------------------------|--------------|-------------|
| `send`     | Send answer (Discord) / `send N` (Discourse)               | `vm_farming` | the candidate |
| `other`    | Other answer… / `send N ENTRY`                             | `vm_farming` | the chosen one |
| `not_this` | Not this / `skip N`                                        | `other`      | none        |
| `removed`  | an auto-reply removed (🗑, a deleted bot post)              | `other`      | none        |
| `called`   | an explicit `/baremetal` on a post the bot stayed silent on | `vm_farming` | the one posted |

Only masked text is stored (`mask_text`): serials, addresses and host names as in dumps, plus
e-mail addresses, mentions and links, cut to `MAX_LABEL_CHARS`. `export_jsonl` writes the labels
in the training format of `knowledge/train.py` (`farmhand train --with-labels`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from bot.state import LabelRecord, Store, TriageItem
from detector import redact

MAX_LABEL_CHARS = 4000
POSITIVE, NEGATIVE = "vm_farming", "other"
DECISIONS: dict[str, str] = {
    "send": POSITIVE,
    "other": POSITIVE,
    "not_this": NEGATIVE,
    "removed": NEGATIVE,
    "called": POSITIVE,
}

_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b")
_MENTION = re.compile(r"<@[!&]?\d{5,25}>|(?<![\w@])@[\w.-]{2,60}")
_URL = re.compile(r"\bhttps?://[^\s<>)\]]{1,500}", re.I)


def mask_text(text: str) -> str:
    """The post as stored in a label: identifiers masked, at most MAX_LABEL_CHARS characters."""
    text = (text or "")[: MAX_LABEL_CHARS * 2]
    text = _URL.sub("[link]", text)
    text = _EMAIL.sub("[email]", text)
    text = _MENTION.sub("@[user]", text)
    return redact(text)[:MAX_LABEL_CHARS]


def record(
    store: Store,
    *,
    platform: str,
    item_id: str,
    text: str,
    decision: str,
    decided_by: str,
    entry: str | None = None,
    where: str = "",
    author_id: str = "",
    url: str | None = None,
    masked: bool = False,
) -> None:
    """Store a decision as a label (the text is masked here unless `masked`)."""
    label = DECISIONS[decision]
    store.add_label(
        platform=platform,
        item_id=item_id,
        where=where,
        text=text if masked else mask_text(text),
        entry=entry if label == POSITIVE else None,
        decision=decision,
        label=label,
        decided_by=decided_by,
        author_id=author_id,
        url=url,
    )


def training_rows(labels: Iterable[LabelRecord]) -> list[dict[str, object]]:
    """Labels as training rows; a post decided twice keeps its latest decision."""
    latest: dict[tuple[str, str], LabelRecord] = {}
    for lab in labels:
        latest.pop((lab.platform, lab.item_id), None)  # re-insert: keeps the latest in time order
        latest[(lab.platform, lab.item_id)] = lab
    return [
        {
            "id": f"label-{lab.platform}-{lab.item_id}",
            "text": lab.text,
            "label": lab.label,
            "entry": lab.entry,
            "class": f"triage-{lab.decision}",
            "platform": lab.platform,
            "writer": "community",
            "source": f"triage:{lab.platform}:{lab.decision}",
        }
        for lab in latest.values()
        if lab.text.strip()
    ]


def export_jsonl(labels: Iterable[LabelRecord]) -> str:
    """The training JSONL (one object a line, trailing newline when not empty)."""
    rows = training_rows(labels)
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def triage_section(items: Iterable[TriageItem], labels: Iterable[LabelRecord], *, since: datetime) -> list[str]:
    """Markdown lines for `farmhand report`: posts sent to triage, decisions and their share,
    time to decision, removed auto-replies and explicit calls on silent posts (since `since`)."""
    cut = since.timestamp()
    items = [i for i in items if i.created_at >= cut]
    labs = [lab for lab in labels if lab.at.timestamp() >= cut]
    removed = sum(1 for lab in labs if lab.decision == "removed")
    called = sum(1 for lab in labs if lab.decision == "called")
    if not items and not removed and not called:
        return []
    decided = [i for i in items if i.state == "decided"]
    lines = ["## Triage", ""]
    rows = [
        ["sent to triage", str(len(items))],
        ["waiting for the next batch (Discourse)", str(sum(i.state == "queued" for i in items))],
        ["open (shown, not decided)", str(sum(i.state == "shown" for i in items))],
        ["decided", str(len(decided))],
    ]
    waits = sorted(
        (i.decided_at or 0) - (i.shown_at or i.created_at) for i in decided if i.decided_at is not None
    )
    if waits:
        rows.append(["time to decision, median", _duration(waits[len(waits) // 2])])
        rows.append(["time to decision, longest", _duration(waits[-1])])
    rows.append(["auto-replies removed (🗑, deleted)", str(removed)])
    rows.append(["explicit calls on posts the bot stayed silent on", str(called)])
    lines += ["| | count |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)]
    if decided:
        by = Counter(i.decision or "?" for i in decided)
        lines += ["", "| decision | count | share |", "|---|---:|---:|"]
        for name, n in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"| {name} | {n} | {100 * n / len(decided):.0f} % |")
        per_platform = Counter(i.platform for i in items)
        lines += ["", "By platform: " + ", ".join(f"{p} {n}" for p, n in sorted(per_platform.items()))]
    return lines


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
