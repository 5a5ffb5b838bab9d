"""The environment variables that hold farmhand's secrets (names only, never values).

Apart from `bot.config` so that the logging setup, which every command runs to mask these
values, does not have to import the config parser.
"""

ENV_DISCOURSE_KEY = "FARMHAND_DISCOURSE_API_KEY"
ENV_DISCOURSE_WEBHOOK = "FARMHAND_DISCOURSE_WEBHOOK_SECRET"
ENV_DISCORD_TOKEN = "FARMHAND_DISCORD_TOKEN"  # noqa: S105 (a variable name, not a secret)
