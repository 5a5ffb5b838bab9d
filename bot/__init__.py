"""farmhand: the bot (config, state, engine, platform adapters, CLI)."""
