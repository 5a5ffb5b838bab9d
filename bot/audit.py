"""One place that records a decision: the audit-log row, the one log line, the metrics.

Both adapters call `record()` once per decided item, with the final outcome (posted or
not, and why). Only identifiers, the entry, the score and the one-line reason are kept:
never the post's text or a dump.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.core.models import Decision, Event
from bot.ops import metrics
from bot.state import Store

log = logging.getLogger(__name__)


def record(
    store: Store,
    event: Event,
    decision: Decision,
    *,
    shadow: bool,
    posted: bool,
    reason: str | None = None,
    level: int = logging.INFO,
) -> None:
    """Write the audit row, log one line with the reason (at `level`), and count the decision."""
    reason = reason or decision.reason
    if decision.match is not None:
        reason = f"{reason} [{why(decision.match)}]"
    mode = "shadow" if shadow else "live"
    score = decision.match.score if decision.match is not None else None
    verdict = decision.verdict.verdict if decision.verdict is not None else None
    try:
        store.record_decision(
            platform=event.platform,
            where=event.where,
            item_id=event.item_id,
            author_id=event.author.id,
            kind=event.kind.value,
            action=decision.action.value,
            entry=decision.audit_entry,
            score=score,
            reason=reason,
            verdict=verdict,
            mode=mode,
            url=event.url,
            posted=posted,
        )
    except Exception:  # the audit log must never stop a reply
        log.exception("could not record the decision on %s item %s", event.platform, event.item_id)
    log.log(
        level,
        "%s %s %s in %s: %s%s: %s",
        event.platform,
        event.kind.value,
        event.item_id,
        event.where,
        decision.action.value,
        " [shadow]" if shadow and decision.posts else "",
        reason,
        extra={
            "fields": {
                "platform": event.platform,
                "item": event.item_id,
                "where": event.where,
                "kind": event.kind.value,
                "action": decision.action.value,
                "entry": decision.audit_entry,
                "score": score,
                "verdict": verdict,
                "posted": posted,
                "mode": mode,
            }
        },
    )
    metrics.record_decision(
        event.platform, decision.action.value, decision.entry.id if decision.entry else None
    )
    if verdict is not None:
        metrics.VERDICTS.labels(kind=verdict).inc()
    if posted:
        metrics.REPLIES.labels(platform=event.platform).inc()
        if event.created_at is not None:
            age = (datetime.now(UTC) - event.created_at).total_seconds()
            metrics.REPLY_LATENCY.labels(platform=event.platform).observe(max(age, 0.0))


def why(match: object) -> str:
    """The matcher's reasons in a few words, for the audit log: band, probability, the two
    strongest features and any veto (`Match.reasons` holds the full list)."""
    band = getattr(match, "band", None) or "?"
    score = getattr(match, "score", 0.0) or 0.0
    reasons = getattr(match, "reasons", ()) or ()
    top = [r.removeprefix("feature ") for r in reasons if r.startswith("feature ")][:2]
    vetoes = [r for r in reasons if r.startswith("veto")][:1]
    return "; ".join([f"band {band}, p {score:.2f}", *top, *vetoes])
