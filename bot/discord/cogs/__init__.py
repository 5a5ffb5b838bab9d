"""The Discord cogs: auto-replies, commands and context menus, DMs."""
