"""Configuration: YAML for settings, the environment for secrets.

`load_config(path)` returns a typed `Config` or raises `ConfigError` with one line
(file, and line where YAML gives one). Nothing is read at import time.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.secret_env import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, ENV_DISCOURSE_WEBHOOK

DEFAULT_DISCORD_API = "https://discord.com/api/v10"
DEFAULT_MAX_DUMP_BYTES = 10 * 1024 * 1024


class ConfigError(ValueError):
    """The configuration cannot be used. The message is one line; `problems` lists every problem."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]

    @classmethod
    def of(cls, problems: list[str]) -> ConfigError:
        """One error for several problems: the message is the first and how many more."""
        more = len(problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''}; `farmhand config check` lists them)"
        return cls(problems[0] + (tail if more else ""), problems)


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
    # A post that cannot be handled is retried on its own schedule (later posts go on) and set
    # aside after this many failed attempts or this many minutes since its first failure.
    retry_attempts: int = 8
    retry_minutes: float = 30.0
    # The forum's own limit on a request (Discourse's app server stops one after 30 s, its
    # nginx after 60 s): after a POST of unknown outcome the topic is re-checked only once
    # this (plus request_timeout) has passed, so a slow POST that lands late is found.
    forum_request_timeout: float = 60.0


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
    "retry_attempts",
    "retry_minutes",
    "forum_request_timeout",
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
    if p.is_dir():
        raise ConfigError(f"{p}: is a directory, not a config file")
    try:
        raw_text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: cannot read: not UTF-8 text") from None
    except OSError as exc:
        from bot.inputs import os_reason

        raise ConfigError(f"{p}: cannot read: {os_reason(exc)}") from None
    return parse_config(raw_text, source=str(p), env=os.environ if env is None else env)


class _Problems:
    """Every problem found in one config, each `source:line: message` (the key's line when known)."""

    def __init__(self, source: str, lines: dict[str, int]) -> None:
        self.source = source
        self.lines = lines
        self.found: list[str] = []

    def add(self, key: str, message: str) -> None:
        line = self.lines.get(key)
        while line is None and "." in key:
            key = key.rsplit(".", 1)[0]
            line = self.lines.get(key)
        where = f"{self.source}:{line}" if line else self.source
        self.found.append(f"{where}: {message}")


def _key_lines(text: str, problems: list[tuple[str, int, str]]) -> dict[str, int]:
    """`dotted.key -> line` for every mapping key; duplicate keys go to `problems` (key, line, message)."""
    lines: dict[str, int] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)

    def walk(node: Any, prefix: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    (prefix + key, line, f"duplicate key {prefix}{key} (first on line {seen[key]}); keep one")
                )
            else:
                seen[key] = line
                lines[prefix + key] = line
            walk(value_node, f"{prefix}{key}.")

    walk(root, "")
    return lines


def parse_config(text: str, source: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    """Validate YAML text as a config (see `load_config`).

    Every problem is found, not only the first: the ConfigError's `problems` lists them all
    (its message is the first, with how many more).
    """
    env = os.environ if env is None else env
    duplicates: list[tuple[str, int, str]] = []
    try:
        lines = _key_lines(text, duplicates)
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
    pr = _Problems(source, lines)
    for _key, line, message in duplicates:
        pr.found.append(f"{source}:{line}: {message}")
    _no_unknown(data, _TOP_KEYS, pr, "")

    state_path = data.get("state_path")
    if not isinstance(state_path, str) or not state_path.strip():
        pr.add("state_path", "state_path is required (a path to the SQLite state file)")
    mode = data.get("mode", "live")
    if mode not in ("live", "shadow"):
        pr.add("mode", f"mode must be 'live' or 'shadow', not {mode!r}")

    discourse = _discourse(data.get("discourse"), pr, env) if data.get("discourse") is not None else None
    discord = _discord(data.get("discord"), pr, env) if data.get("discord") is not None else None
    http = _http(data.get("http"), pr) if data.get("http") is not None else None
    max_dump = _int(data.get("max_dump_bytes", DEFAULT_MAX_DUMP_BYTES), pr, "max_dump_bytes", minimum=1)
    min_score = data.get("min_score")
    if min_score is not None and (
        isinstance(min_score, bool) or not (isinstance(min_score, int | float) and 0 <= min_score <= 1)
    ):
        pr.add("min_score", f"min_score must be a number between 0 and 1, not {min_score!r}")
        min_score = None
    retention = _int(data.get("retention_days", 90), pr, "retention_days")
    model_path = _matcher(data.get("matcher"), pr)
    if pr.found:
        raise ConfigError.of(pr.found)
    return Config(
        state_path=Path(str(state_path)).expanduser(),
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


def state_path_problem(path: Path) -> str | None:
    """Why the service could not keep its state at `path`, in one line; None when it can.

    It must be a file (or not exist yet) that this user can write, in a folder that exists
    or can be created. `config check` runs this: the unit's `ExecStartPre` relies on it.
    """
    if path.is_dir():
        return f"state_path {path} is a directory; name a file in it, e.g. {path / 'state.sqlite3'}"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"state_path {path}: this user ({_user()}) cannot read and write it"
        return None
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"state_path {path}: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        missing = "" if parent == path.parent else f" (to create {path.parent})"
        return f"state_path {path}: this user ({_user()}) cannot write in {parent}{missing}"
    return None


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return f"uid {os.getuid()}"


def _no_unknown(section: dict[str, Any], allowed: set[str], pr: _Problems, prefix: str) -> None:
    for key in sorted(set(map(str, section)) - allowed):
        near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
        hint = f"did you mean `{prefix}{near[0]}`?" if near else f"allowed: {', '.join(sorted(allowed))}"
        pr.add(prefix + key, f"unknown key {prefix}{key}; {hint}")


def _secret(env: Mapping[str, str], name: str, pr: _Problems, section: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        pr.add(section, f"the {section} section needs the environment variable {name}")
        return value
    _check_secret_chars(value, name, pr)
    return value


def _check_secret_chars(value: str, name: str, pr: _Problems, *, header: bool = True) -> None:
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
        pr.add(name, f"{name} contains {what}; it must be {rule} (copy it again)")


def _webhook_secret(env: Mapping[str, str], pr: _Problems) -> str | None:
    value = env.get(ENV_DISCOURSE_WEBHOOK, "").strip()
    if value:
        _check_secret_chars(value, ENV_DISCOURSE_WEBHOOK, pr, header=False)
    return value or None


def _web_url(value: Any, pr: _Problems, key: str, default: str = "") -> str:
    """An http(s) URL without user:password@ (credentials would end up in logs and errors)."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        pr.add(key, f"{key} must be an http(s) URL, not {_shown(value)}")
        return default
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a bad port
    except ValueError:
        pr.add(key, f"{key} is not a valid URL: {_shown(value)}")
        return default
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        pr.add(
            key,
            f"{key} must not contain a user name or password (user:password@...); "
            "remove them: the API key or token authenticates",
        )
        return default
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


def _int(value: Any, pr: _Problems, key: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        pr.add(key, f"{key} must be an integer >= {minimum}, not {value!r}")
        return minimum
    return value


def _number(value: Any, pr: _Problems, key: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        pr.add(key, f"{key} must be a number >= {minimum}, not {value!r}")
        return minimum
    return float(value)


def _ids(value: Any, pr: _Problems, key: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        pr.add(key, f"{key} must be a list of numeric ids")
        return ()
    return tuple(value)


def _optional_id(value: Any, pr: _Problems, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        pr.add(key, f"{key} must be a numeric channel id")
        return None
    return value


def _names(value: Any, pr: _Problems, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        pr.add(key, f"{key} must be a list of usernames (or one group name)")
        return ()
    return tuple(v.strip().lstrip("@") for v in value)


def _moment(value: Any, pr: _Problems, key: str) -> datetime | None:
    """A date or date-time (YAML parses both); naive values are UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            pr.add(key, f"{key} must be a date like 2026-01-31, not {value!r}")
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    pr.add(key, f"{key} must be a date like 2026-01-31, not {value!r}")
    return None


def _bool(value: Any, pr: _Problems, key: str) -> bool:
    if not isinstance(value, bool):
        pr.add(key, f"{key} must be true or false, not {value!r}")
        return False
    return value


def _discourse(sec: Any, pr: _Problems, env: Mapping[str, str]) -> DiscourseConfig | None:
    if not isinstance(sec, dict):
        pr.add("discourse", "discourse must be a mapping")
        return None
    _no_unknown(sec, _DISCOURSE_KEYS, pr, "discourse.")
    url = _web_url(sec.get("url"), pr, "discourse.url")
    user = sec.get("api_username")
    if not isinstance(user, str) or not user.strip():
        pr.add("discourse.api_username", "discourse.api_username is required (the bot's own account)")
        user = ""
    return DiscourseConfig(
        url=url.rstrip("/"),
        api_username=user.strip(),
        api_key=_secret(env, ENV_DISCOURSE_KEY, pr, "discourse"),
        webhook_secret=_webhook_secret(env, pr),
        poll_seconds=_number(sec.get("poll_seconds", 30), pr, "discourse.poll_seconds", 0.05),
        categories=_ids(sec.get("categories"), pr, "discourse.categories"),
        answer_staff=_bool(sec.get("answer_staff", False), pr, "discourse.answer_staff"),
        request_timeout=_number(sec.get("request_timeout", 20), pr, "discourse.request_timeout", 0.1),
        triage_recipients=_names(sec.get("triage_recipients"), pr, "discourse.triage_recipients"),
        triage_minutes=_number(sec.get("triage_minutes", 30), pr, "discourse.triage_minutes", 0.001),
        retry_attempts=_int(sec.get("retry_attempts", 8), pr, "discourse.retry_attempts", 1),
        retry_minutes=_number(sec.get("retry_minutes", 30), pr, "discourse.retry_minutes", 0.001),
        forum_request_timeout=_number(
            sec.get("forum_request_timeout", 60), pr, "discourse.forum_request_timeout", 0.0
        ),
    )


def _discord(sec: Any, pr: _Problems, env: Mapping[str, str]) -> DiscordConfig | None:
    if not isinstance(sec, dict):
        pr.add("discord", "discord must be a mapping")
        return None
    _no_unknown(sec, _DISCORD_KEYS, pr, "discord.")
    api_base = _web_url(sec.get("api_base", DEFAULT_DISCORD_API), pr, "discord.api_base", DEFAULT_DISCORD_API)
    return DiscordConfig(
        token=_secret(env, ENV_DISCORD_TOKEN, pr, "discord"),
        watch_channels=_ids(sec.get("watch_channels"), pr, "discord.watch_channels"),
        api_base=api_base.rstrip("/"),
        moderator_roles=_ids(sec.get("moderator_roles"), pr, "discord.moderator_roles"),
        helper_roles=_ids(sec.get("helper_roles"), pr, "discord.helper_roles"),
        cooldown_seconds=_number(sec.get("cooldown_seconds", 60), pr, "discord.cooldown_seconds"),
        asker_max_replies=_int(sec.get("asker_max_replies", 3), pr, "discord.asker_max_replies"),
        asker_window_seconds=_number(sec.get("asker_window_seconds", 300), pr, "discord.asker_window_seconds"),
        answer_staff=_bool(sec.get("answer_staff", False), pr, "discord.answer_staff"),
        max_attachment_bytes=_int(
            sec.get("max_attachment_bytes", 1024 * 1024), pr, "discord.max_attachment_bytes", 1
        ),
        triage_channel=_optional_id(sec.get("triage_channel"), pr, "discord.triage_channel"),
        triage_all_until=_moment(sec.get("triage_all_until"), pr, "discord.triage_all_until"),
    )


def _matcher(sec: Any, pr: _Problems) -> Path | None:
    if sec is None:
        return None
    if not isinstance(sec, dict):
        pr.add("matcher", "matcher must be a mapping")
        return None
    _no_unknown(sec, {"model_path"}, pr, "matcher.")
    value = sec.get("model_path")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        pr.add("matcher.model_path", "matcher.model_path must be a path to a model file")
        return None
    return Path(value).expanduser()


_HTTP_KEYS = {"listen", "read_timeout", "max_connections", "max_body_bytes"}


def _http(sec: Any, pr: _Problems) -> HttpConfig | None:
    if not isinstance(sec, dict):
        pr.add("http", "http must be a mapping")
        return None
    _no_unknown(sec, _HTTP_KEYS, pr, "http.")
    listen = str(sec.get("listen", "127.0.0.1:8080"))
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        pr.add("http.listen", f"http.listen must look like HOST:PORT, not {listen!r}")
        return None
    read_timeout = _number(sec.get("read_timeout", 10.0), pr, "http.read_timeout", 0.1)
    return HttpConfig(
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        read_timeout=read_timeout,
        max_connections=_int(sec.get("max_connections", 256), pr, "http.max_connections", 8),
        max_body_bytes=_int(sec.get("max_body_bytes", 1024 * 1024), pr, "http.max_body_bytes", 1024),
    )
