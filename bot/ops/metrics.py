"""Prometheus metrics, in one private registry (so tests and several bots in one process don't clash).

Adapters and the engine runner record here; `/metrics` serves `render()`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

DECISIONS = Counter(
    "farmhand_decisions_total",
    "Decisions taken, by outcome (answer, verdict, silent, ...) and knowledge-base entry",
    ["platform", "outcome", "entry"],
    registry=REGISTRY,
)
REPLIES = Counter(
    "farmhand_replies_posted_total",
    "Replies actually posted (shadow mode posts none)",
    ["platform"],
    registry=REGISTRY,
)
REPLIES_HELD = Counter(
    "farmhand_replies_held_for_approval_total",
    "Replies the forum accepted into its review queue instead of posting (Discourse 'enqueued')",
    ["platform"],
    registry=REGISTRY,
)
VERDICTS = Counter(
    "farmhand_verdicts_total",
    "Dump verdicts given, by kind (bare-metal, virtual, container, inconclusive)",
    ["kind"],
    registry=REGISTRY,
)
PLATFORM_ERRORS = Counter(
    "farmhand_platform_errors_total",
    "Errors talking to a platform, by kind (network, rate_limited, http_5xx, forbidden, ...)",
    ["platform", "kind"],
    registry=REGISTRY,
)
POSTS_SET_ASIDE = Counter(
    "farmhand_posts_set_aside_total",
    "Posts set aside unanswered after their retry budget (attempts or age) was spent",
    ["platform"],
    registry=REGISTRY,
)
PLATFORM_UP = Gauge(
    "farmhand_platform_up",
    "1 while the platform answers, 0 while it is unreachable (also at start-up)",
    ["platform"],
    registry=REGISTRY,
)
REPLY_LATENCY = Histogram(
    "farmhand_post_to_reply_seconds",
    "Seconds from a post's creation to the bot's reply",
    ["platform"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def record_decision(platform: str, outcome: str, entry: str | None) -> None:
    """Count one engine decision."""
    DECISIONS.labels(platform=platform, outcome=outcome, entry=entry or "-").inc()


def render() -> bytes:
    """The registry in Prometheus text format."""
    return generate_latest(REGISTRY)
