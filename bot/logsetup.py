"""One place that sets up logging: text by default, one JSON object per line with --log-format json.

Whatever the format, the values of the secret environment variables (API key, webhook
secret, Discord token) are masked in every line, tracebacks included: an exception
message that quotes a request header or URL must not put a token in the journal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType

from bot.secret_env import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, ENV_DISCOURSE_WEBHOOK

SECRET_ENV = (ENV_DISCOURSE_KEY, ENV_DISCOURSE_WEBHOOK, ENV_DISCORD_TOKEN)
MASK = "***"
MIN_SECRET_LEN = 6  # shorter values would mask ordinary words; real keys are far longer


class JsonFormatter(logging.Formatter):
    """One JSON object per record; extra fields passed as `extra={"fields": {...}}` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value ...`; the `fields` extra is appended as key=value pairs."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            head, sep, tail = line.partition("\n")  # keep pairs on the message line, before a traceback
            pairs = " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
            line = f"{head} {pairs}{sep}{tail}"
        return line


def _text_value(value: object) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False)
        if (not text or any(c.isspace() or c == '"' for c in text))
        else text
    )


class SecretMasker(logging.Formatter):
    """Wraps a formatter and replaces known secret values in its output."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            if secret in line:
                line = line.replace(secret, MASK)
        return line


def secrets_from_env(env: dict[str, str] | None = None) -> list[str]:
    """The values of the secret variables that are set (to mask them in logs)."""
    env = dict(os.environ) if env is None else env
    return [v.strip() for name in SECRET_ENV if (v := env.get(name, "")).strip()]


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger for the CLI (stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    handler.setFormatter(SecretMasker(inner, secrets_from_env()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    # Library chatter (discord.py gateway, urllib3 retries) is noise at INFO.
    for noisy in ("discord", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Whatever escapes every handler goes through the same formatter and masker: JSON when
    # asked, secrets replaced, never a raw traceback printed by the interpreter.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_thread
    sys.unraisablehook = _log_unraisable


def _log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("farmhand").critical(
        "uncaught error: %s", exc_type.__name__, exc_info=(exc_type, exc, tb)
    )


def _log_uncaught_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("farmhand").critical(
        "uncaught error in thread %s: %s",
        name,
        args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
    )


def _log_unraisable(args: object) -> None:
    exc = getattr(args, "exc_value", None)
    logging.getLogger("farmhand").error(
        "unraisable error: %s",
        type(exc).__name__ if exc is not None else "?",
        exc_info=(type(exc), exc, getattr(args, "exc_traceback", None)) if exc is not None else None,
    )
