"""A local Discourse-API-compatible forum for the demo and the integration tests."""

from bot.sandbox.forum import Fault, SandboxForum

__all__ = ["Fault", "SandboxForum"]
