"""Platform-neutral core: events, decisions, the engine."""
