from pathlib import Path

import pytest

from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, ConfigError, load_config, parse_config

ENV = {ENV_DISCOURSE_KEY: "k" * 64, ENV_DISCORD_TOKEN: "t.o.k"}

FULL = """
state_path: /tmp/x/state.sqlite3
mode: shadow
discourse:
  url: https://forum.example.org/
  api_username: farmhand
  poll_seconds: 5
  categories: [4, 7]
discord:
  watch_channels: [123456789012345678]
  api_base: http://127.0.0.1:9999/api/v10
http:
  listen: 127.0.0.1:8081
"""


def test_full_config_parses_into_typed_sections():
    cfg = parse_config(FULL, env=ENV)
    assert cfg.shadow and cfg.state_path == Path("/tmp/x/state.sqlite3")
    assert cfg.discourse is not None and cfg.discourse.url == "https://forum.example.org"
    assert cfg.discourse.categories == (4, 7) and cfg.discourse.poll_seconds == 5.0
    assert cfg.discourse.api_key == "k" * 64 and cfg.discourse.webhook_secret is None
    assert cfg.discord is not None and cfg.discord.watch_channels == (123456789012345678,)
    assert cfg.discord.api_base == "http://127.0.0.1:9999/api/v10"
    assert cfg.http is not None and (cfg.http.host, cfg.http.port) == ("127.0.0.1", 8081)


def test_secrets_never_appear_in_repr():
    cfg = parse_config(FULL, env=ENV)
    assert "k" * 64 not in repr(cfg) and "t.o.k" not in repr(cfg)


@pytest.mark.parametrize(
    ("missing", "section"), [(ENV_DISCOURSE_KEY, "discourse"), (ENV_DISCORD_TOKEN, "discord")]
)
def test_missing_secret_names_the_environment_variable(missing, section):
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(ConfigError) as exc:
        parse_config(FULL, env=env)
    assert missing in str(exc.value) and section in str(exc.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("state_path: [unclosed\n", "invalid YAML"),
        ("mode: live\n", "state_path is required"),
        ("state_path: s\nmode: loud\n", "mode must be"),
        ("state_path: s\nstate_pth: t\n", "unknown key state_pth"),
        ("state_path: s\ndiscourse: {url: ftp://x, api_username: a}\n", "discourse.url"),
        ("state_path: s\ndiscord: {watch_channels: [abc]}\n", "watch_channels"),
        ("state_path: s\nhttp: {listen: nope}\n", "http.listen"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_configs_give_one_line_errors(text, needle):
    with pytest.raises(ConfigError) as exc:
        parse_config(text, source="farmhand.yaml", env=ENV)
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg and msg.startswith("farmhand.yaml")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml", env=ENV)


def test_webhook_secret_comes_from_environment():
    env = dict(ENV, FARMHAND_DISCOURSE_WEBHOOK_SECRET="s3cret")
    cfg = parse_config("state_path: s\ndiscourse: {url: 'http://127.0.0.1:1', api_username: fh}\n", env=env)
    assert cfg.discourse is not None and cfg.discourse.webhook_secret == "s3cret"


def test_yaml_error_names_the_line():
    with pytest.raises(ConfigError, match=r"^farmhand.yaml:3: invalid YAML"):
        parse_config(
            "state_path: s\nmode: live\ndiscourse: {url: :\n  bad: [\n", source="farmhand.yaml", env=ENV
        )


def test_retention_days_defaults_to_90_and_validates():
    assert parse_config("state_path: s\n", env=ENV).retention_days == 90
    assert parse_config("state_path: s\nretention_days: 0\n", env=ENV).retention_days == 0
    with pytest.raises(ConfigError, match="retention_days"):
        parse_config("state_path: s\nretention_days: -1\n", env=ENV)


def test_triage_keys():
    from datetime import UTC, datetime

    cfg = parse_config(
        "state_path: s\n"
        "discourse: {url: 'https://f.example', api_username: fh, triage_recipients: [mods, '@ann'], triage_minutes: 10}\n"
        "discord: {triage_channel: 123456789012345678, triage_all_until: 2026-02-01}\n",
        env=ENV,
    )
    assert cfg.discourse.triage_recipients == ("mods", "ann") and cfg.discourse.triage_minutes == 10
    assert cfg.discord.triage_channel == 123456789012345678
    assert cfg.discord.triage_all_until == datetime(2026, 2, 1, tzinfo=UTC)
    plain = parse_config("state_path: s\ndiscord: {}\n", env=ENV)
    assert plain.discord.triage_channel is None and plain.discord.triage_all_until is None
    for bad in ("triage_channel: '#mods'", "triage_all_until: next week"):
        with pytest.raises(ConfigError, match=r"discord\.triage_"):
            parse_config(f"state_path: s\ndiscord: {{{bad}}}\n", env=ENV)
