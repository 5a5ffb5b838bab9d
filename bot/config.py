"""Configuration: YAML for settings, the environment for secrets.

`load_config(path)` returns a typed `Config` or raises `ConfigError` with one line
(file, and line where YAML gives one). Nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

ENV_DISCOURSE_KEY = "FARMHAND_DISCOURSE_API_KEY"
ENV_DISCOURSE_WEBHOOK = "FARMHAND_DISCOURSE_WEBHOOK_SECRET"
ENV_DISCORD_TOKEN = "FARMHAND_DISCORD_TOKEN"  # noqa: S105 (a variable name, not a secret)

DEFAULT_DISCORD_API = "https://discord.com/api/v10"
DEFAULT_MAX_DUMP_BYTES = 10 * 1024 * 1024


class ConfigError(ValueError):
    """The configuration cannot be used. The message is one line."""


@dataclass(frozen=True, slots=True)
class DiscourseConfig:
    url: str
    api_username: str
    api_key: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    poll_seconds: float = 30.0
    categories: tuple[int, ...] = ()  # empty: all categories
    answer_staff: bool = False  # staff posts are skipped by default
    request_timeout: float = 20.0
    triage_recipients: tuple[str, ...] = ()  # usernames or one group name: the unsure posts go there by PM
    triage_minutes: float = 30.0  # at most one triage message per this many minutes


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(repr=False)
    watch_channels: tuple[int, ...] = ()
    api_base: str = DEFAULT_DISCORD_API
    moderator_roles: tuple[int, ...] = ()  # may post /baremetal publicly, besides Manage Messages
    helper_roles: tuple[int, ...] = ()  # trusted helpers: their answer in a thread silences the bot
    cooldown_seconds: float = 60.0  # per watched channel: the same entry again within this is a jump link
    asker_max_replies: int = (
        3  # flood protection: auto-replies per asker per asker_window_seconds (0: no limit)
    )
    asker_window_seconds: float = 300.0
    answer_staff: bool = False
    max_attachment_bytes: int = 1024 * 1024
    triage_channel: int | None = None  # moderators-only channel for the matcher's unsure posts
    triage_all_until: datetime | None = None  # until then, every auto-reply is shown there too


@dataclass(frozen=True, slots=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class Config:
    state_path: Path
    mode: str = "live"  # "live" or "shadow" (decide and record, post nothing)
    discourse: DiscourseConfig | None = None
    discord: DiscordConfig | None = None
    http: HttpConfig | None = None
    max_dump_bytes: int = DEFAULT_MAX_DUMP_BYTES
    min_score: float | None = None  # override the matcher's auto-reply threshold
    retention_days: int = 90  # audit-log rows older than this are deleted; 0 keeps them forever
    model_path: Path | None = None  # matcher.model_path: a model `farmhand train` wrote; None: the shipped one
    source: str = "<config>"

    @property
    def shadow(self) -> bool:
        return self.mode == "shadow"


_TOP_KEYS = {
    "state_path",
    "mode",
    "discourse",
    "discord",
    "http",
    "max_dump_bytes",
    "min_score",
    "retention_days",
    "matcher",
}
_DISCOURSE_KEYS = {
    "url",
    "api_username",
    "poll_seconds",
    "categories",
    "answer_staff",
    "request_timeout",
    "triage_recipients",
    "triage_minutes",
}
_DISCORD_KEYS = {
    "watch_channels",
    "api_base",
    "moderator_roles",
    "helper_roles",
    "cooldown_seconds",
    "asker_max_replies",
    "asker_window_seconds",
    "answer_staff",
    "max_attachment_bytes",
    "triage_channel",
    "triage_all_until",
}


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config file; secrets come from `env` (default: os.environ)."""
    p = Path(path)
    try:
        raw_text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    return parse_config(raw_text, source=str(p), env=os.environ if env is None else env)


def parse_config(text: str, source: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    """Validate YAML text as a config (see `load_config`)."""
    env = os.environ if env is None else env
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a mapping of keys to values")
    _no_unknown(data, _TOP_KEYS, source, "")

    state_path = data.get("state_path")
    if not isinstance(state_path, str) or not state_path.strip():
        raise ConfigError(f"{source}: state_path is required (a path to the SQLite state file)")
    mode = data.get("mode", "live")
    if mode not in ("live", "shadow"):
        raise ConfigError(f"{source}: mode must be 'live' or 'shadow', not {mode!r}")

    discourse = _discourse(data.get("discourse"), source, env) if data.get("discourse") is not None else None
    discord = _discord(data.get("discord"), source, env) if data.get("discord") is not None else None
    http = _http(data.get("http"), source) if data.get("http") is not None else None
    max_dump = _int(data.get("max_dump_bytes", DEFAULT_MAX_DUMP_BYTES), source, "max_dump_bytes", minimum=1)
    min_score = data.get("min_score")
    if min_score is not None and not (isinstance(min_score, int | float) and 0 <= min_score <= 1):
        raise ConfigError(f"{source}: min_score must be a number between 0 and 1")
    retention = _int(data.get("retention_days", 90), source, "retention_days")
    model_path = _matcher(data.get("matcher"), source)
    return Config(
        state_path=Path(state_path).expanduser(),
        mode=mode,
        discourse=discourse,
        discord=discord,
        http=http,
        max_dump_bytes=max_dump,
        min_score=None if min_score is None else float(min_score),
        retention_days=retention,
        model_path=model_path,
        source=source,
    )


def _no_unknown(section: dict[str, Any], allowed: set[str], source: str, prefix: str) -> None:
    unknown = sorted(set(map(str, section)) - allowed)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})"
        )


def _secret(env: Mapping[str, str], name: str, source: str, section: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{source}: the {section} section needs the environment variable {name}")
    return value


def _int(value: Any, source: str, key: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{source}: {key} must be an integer >= {minimum}, not {value!r}")
    return value


def _number(value: Any, source: str, key: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"{source}: {key} must be a number >= {minimum}, not {value!r}")
    return float(value)


def _ids(value: Any, source: str, key: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{source}: {key} must be a list of numeric ids")
    return tuple(value)


def _optional_id(value: Any, source: str, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{source}: {key} must be a numeric channel id")
    return value


def _names(value: Any, source: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{source}: {key} must be a list of usernames (or one group name)")
    return tuple(v.strip().lstrip("@") for v in value)


def _moment(value: Any, source: str, key: str) -> datetime | None:
    """A date or date-time (YAML parses both); naive values are UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{source}: {key} must be a date like 2026-01-31, not {value!r}") from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ConfigError(f"{source}: {key} must be a date like 2026-01-31, not {value!r}")


def _bool(value: Any, source: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {key} must be true or false")
    return value


def _discourse(sec: Any, source: str, env: Mapping[str, str]) -> DiscourseConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: discourse must be a mapping")
    _no_unknown(sec, _DISCOURSE_KEYS, source, "discourse.")
    url = sec.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: discourse.url must be an http(s) URL, not {url!r}")
    user = sec.get("api_username")
    if not isinstance(user, str) or not user.strip():
        raise ConfigError(f"{source}: discourse.api_username is required (the bot's own account)")
    return DiscourseConfig(
        url=url.rstrip("/"),
        api_username=user.strip(),
        api_key=_secret(env, ENV_DISCOURSE_KEY, source, "discourse"),
        webhook_secret=env.get(ENV_DISCOURSE_WEBHOOK, "").strip() or None,
        poll_seconds=_number(sec.get("poll_seconds", 30), source, "discourse.poll_seconds", 0.05),
        categories=_ids(sec.get("categories"), source, "discourse.categories"),
        answer_staff=_bool(sec.get("answer_staff", False), source, "discourse.answer_staff"),
        request_timeout=_number(sec.get("request_timeout", 20), source, "discourse.request_timeout", 0.1),
        triage_recipients=_names(sec.get("triage_recipients"), source, "discourse.triage_recipients"),
        triage_minutes=_number(sec.get("triage_minutes", 30), source, "discourse.triage_minutes", 0.001),
    )


def _discord(sec: Any, source: str, env: Mapping[str, str]) -> DiscordConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: discord must be a mapping")
    _no_unknown(sec, _DISCORD_KEYS, source, "discord.")
    api_base = sec.get("api_base", DEFAULT_DISCORD_API)
    if not isinstance(api_base, str) or not api_base.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: discord.api_base must be an http(s) URL, not {api_base!r}")
    return DiscordConfig(
        token=_secret(env, ENV_DISCORD_TOKEN, source, "discord"),
        watch_channels=_ids(sec.get("watch_channels"), source, "discord.watch_channels"),
        api_base=api_base.rstrip("/"),
        moderator_roles=_ids(sec.get("moderator_roles"), source, "discord.moderator_roles"),
        helper_roles=_ids(sec.get("helper_roles"), source, "discord.helper_roles"),
        cooldown_seconds=_number(sec.get("cooldown_seconds", 60), source, "discord.cooldown_seconds"),
        asker_max_replies=_int(sec.get("asker_max_replies", 3), source, "discord.asker_max_replies"),
        asker_window_seconds=_number(
            sec.get("asker_window_seconds", 300), source, "discord.asker_window_seconds"
        ),
        answer_staff=_bool(sec.get("answer_staff", False), source, "discord.answer_staff"),
        max_attachment_bytes=_int(
            sec.get("max_attachment_bytes", 1024 * 1024), source, "discord.max_attachment_bytes", 1
        ),
        triage_channel=_optional_id(sec.get("triage_channel"), source, "discord.triage_channel"),
        triage_all_until=_moment(sec.get("triage_all_until"), source, "discord.triage_all_until"),
    )


def _matcher(sec: Any, source: str) -> Path | None:
    if sec is None:
        return None
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: matcher must be a mapping")
    _no_unknown(sec, {"model_path"}, source, "matcher.")
    value = sec.get("model_path")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: matcher.model_path must be a path to a model file")
    return Path(value).expanduser()


def _http(sec: Any, source: str) -> HttpConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: http must be a mapping")
    _no_unknown(sec, {"listen"}, source, "http.")
    listen = str(sec.get("listen", "127.0.0.1:8080"))
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{source}: http.listen must look like HOST:PORT, not {listen!r}")
    return HttpConfig(host=host.strip("[]") or "127.0.0.1", port=int(port))
