"""The Discourse adapter: poll /posts.json (and signed webhooks), decide with the engine, reply once."""

from bot.discourse.adapter import DiscourseAdapter
from bot.discourse.client import (
    ForumAuthError,
    ForumClient,
    ForumError,
    ForumRejected,
    ForumUnavailable,
    RateLimited,
)

__all__ = [
    "DiscourseAdapter",
    "ForumAuthError",
    "ForumClient",
    "ForumError",
    "ForumNotDiscourse",
    "ForumRejected",
    "ForumUnavailable",
    "RateLimited",
]
