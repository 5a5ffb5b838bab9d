"""Configuration: YAML for settings, the environment for secrets.

`load_config(path)` returns a typed `Config` or raises `ConfigError` with one line
(file, and line where YAML gives one). Nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(repr=False)
    watch_channels: tuple[int, ...] = ()
    api_base: str = DEFAULT_DISCORD_API
    moderator_roles: tuple[int, ...] = ()  # may post /baremetal publicly, besides Manage Messages
    helper_roles: tuple[int, ...] = ()  # trusted helpers: their answer in a thread silences the bot
    cooldown_seconds: float = 60.0  # per watched text channel (per post in a forum), between auto-replies
    answer_staff: bool = False
    max_attachment_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    read_timeout: float = 10.0  # seconds to receive a request's headers, and again its body
    max_connections: int = 256  # open connections; past it the oldest is closed
    max_body_bytes: int = 1024 * 1024  # a post_created webhook is a few KB to ~200 KB


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
}
_DISCOURSE_KEYS = {"url", "api_username", "poll_seconds", "categories", "answer_staff", "request_timeout"}
_DISCORD_KEYS = {
    "watch_channels",
    "api_base",
    "moderator_roles",
    "helper_roles",
    "cooldown_seconds",
    "answer_staff",
    "max_attachment_bytes",
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
    return Config(
        state_path=Path(state_path).expanduser(),
        mode=mode,
        discourse=discourse,
        discord=discord,
        http=http,
        max_dump_bytes=max_dump,
        min_score=None if min_score is None else float(min_score),
        retention_days=retention,
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
    _check_secret_chars(value, name, source)
    return value


def _check_secret_chars(value: str, name: str, source: str, *, header: bool = True) -> None:
    # A key goes into an HTTP header (Api-Key, Authorization), which takes printable ASCII
    # only: a pasted "smart" character or a newline from `echo` into the env file would
    # otherwise be a traceback at the first request. The value itself is never printed.
    # (The webhook secret only keys an HMAC: there, only control characters are wrong.)
    if header:
        bad = next((c for c in value if not " " < c < "\x7f"), None)
    else:
        bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        what = (
            "a newline or another control character"
            if ord(bad) < 32 or ord(bad) == 127
            else ("a space" if bad == " " else "a non-ASCII character")
        )
        rule = "printable ASCII only" if header else "without control characters"
        raise ConfigError(f"{source}: {name} contains {what}; it must be {rule} (copy it again)")


def _webhook_secret(env: Mapping[str, str], source: str) -> str | None:
    value = env.get(ENV_DISCOURSE_WEBHOOK, "").strip()
    if value:
        _check_secret_chars(value, ENV_DISCOURSE_WEBHOOK, source, header=False)
    return value or None


def _web_url(value: Any, source: str, key: str) -> str:
    """An http(s) URL without user:password@ (credentials would end up in logs and errors)."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: {key} must be an http(s) URL, not {_shown(value)}")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a bad port
    except ValueError:
        raise ConfigError(f"{source}: {key} is not a valid URL: {_shown(value)}") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ConfigError(
            f"{source}: {key} must not contain a user name or password (user:password@...); "
            "remove them: the API key or token authenticates"
        )
    return value


def _shown(value: Any) -> str:
    """A config value fit for an error message: anything before an '@' in a URL is hidden."""
    text = repr(value)
    if isinstance(value, str) and "@" in value:
        scheme, sep, rest = value.partition("://")
        text = repr(
            f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if sep else "***@" + value.rpartition("@")[2]
        )
    return text[:200]


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


def _bool(value: Any, source: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {key} must be true or false")
    return value


def _discourse(sec: Any, source: str, env: Mapping[str, str]) -> DiscourseConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: discourse must be a mapping")
    _no_unknown(sec, _DISCOURSE_KEYS, source, "discourse.")
    url = _web_url(sec.get("url"), source, "discourse.url")
    user = sec.get("api_username")
    if not isinstance(user, str) or not user.strip():
        raise ConfigError(f"{source}: discourse.api_username is required (the bot's own account)")
    return DiscourseConfig(
        url=url.rstrip("/"),
        api_username=user.strip(),
        api_key=_secret(env, ENV_DISCOURSE_KEY, source, "discourse"),
        webhook_secret=_webhook_secret(env, source),
        poll_seconds=_number(sec.get("poll_seconds", 30), source, "discourse.poll_seconds", 0.05),
        categories=_ids(sec.get("categories"), source, "discourse.categories"),
        answer_staff=_bool(sec.get("answer_staff", False), source, "discourse.answer_staff"),
        request_timeout=_number(sec.get("request_timeout", 20), source, "discourse.request_timeout", 0.1),
    )


def _discord(sec: Any, source: str, env: Mapping[str, str]) -> DiscordConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: discord must be a mapping")
    _no_unknown(sec, _DISCORD_KEYS, source, "discord.")
    api_base = _web_url(sec.get("api_base", DEFAULT_DISCORD_API), source, "discord.api_base")
    return DiscordConfig(
        token=_secret(env, ENV_DISCORD_TOKEN, source, "discord"),
        watch_channels=_ids(sec.get("watch_channels"), source, "discord.watch_channels"),
        api_base=api_base.rstrip("/"),
        moderator_roles=_ids(sec.get("moderator_roles"), source, "discord.moderator_roles"),
        helper_roles=_ids(sec.get("helper_roles"), source, "discord.helper_roles"),
        cooldown_seconds=_number(sec.get("cooldown_seconds", 60), source, "discord.cooldown_seconds"),
        answer_staff=_bool(sec.get("answer_staff", False), source, "discord.answer_staff"),
        max_attachment_bytes=_int(
            sec.get("max_attachment_bytes", 1024 * 1024), source, "discord.max_attachment_bytes", 1
        ),
    )


_HTTP_KEYS = {"listen", "read_timeout", "max_connections", "max_body_bytes"}


def _http(sec: Any, source: str) -> HttpConfig:
    if not isinstance(sec, dict):
        raise ConfigError(f"{source}: http must be a mapping")
    _no_unknown(sec, _HTTP_KEYS, source, "http.")
    listen = str(sec.get("listen", "127.0.0.1:8080"))
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{source}: http.listen must look like HOST:PORT, not {listen!r}")
    read_timeout = _number(sec.get("read_timeout", 10.0), source, "http.read_timeout", 0.1)
    return HttpConfig(
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        read_timeout=read_timeout,
        max_connections=_int(sec.get("max_connections", 256), source, "http.max_connections", 8),
        max_body_bytes=_int(sec.get("max_body_bytes", 1024 * 1024), source, "http.max_body_bytes", 1024),
    )
