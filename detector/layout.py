"""Layout tolerance: strip the line prefixes a paste picks up on its way to a forum.

Real pastes arrive quoted (`> `, `>> ` in Markdown and e-mail), inside journald or syslog
lines (`Mon DD hh:mm:ss host unit[pid]: `, `journalctl -o short-iso`), or behind
docker-compose's `service_1  | `, a CI log's `2021-06-29 09:59:08.929 | `, a test harness's
`01:56:36 DEBUG| [stdout] `, Python logging's `[2025-09-18 13:24:06] - DEBUG - ` or VBox.log's
`00:00:01.524546 `. Every parser and marker would have to know each of those;
instead they are removed here, once, before anything else reads the paste. Each pass is one
C-level `re.sub` and never adds or removes a newline, so evidence still quotes the user's
own line numbers.

Kernel lines keep a `kernel: ` head (the timestamp and host go): it tells the segmenter that
the line is kernel log even when `dmesg -t` or journald printed no `[ 0.000000]` stamp.
"""

from __future__ import annotations

import functools
import itertools
import re

# `> text`, `>> text`, `> > text`: Markdown / e-mail quotes, at any indentation: a quote
# pasted into a code block (four spaces in) still holds the quoted output.
_QUOTE = re.compile(r"(?m)^[ \t]*>(?:[ \t]?>)*[ \t]?")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# syslog `Feb 14 09:07:16`, ISO `2023-02-14T09:07:16.123+0100` (journalctl -o short-iso,
# rsyslog), or `2023-02-14 09:07:16` (some agents).
_STAMP = (
    rf"(?:{_MONTH}[ \t]+\d{{1,2}}[ \t]+\d\d:\d\d:\d\d"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)"
)
# `<stamp> <host> kernel: ` -> `kernel: `; `<stamp> <host> <unit>[pid]: ` -> ``.
_KERNEL_PREFIX = re.compile(rf"(?m)^[ \t]*{_STAMP}[ \t]+[\w.-]{{1,253}}[ \t]+kernel:[ \t]?")
# One `<stamp> <host> <unit>[pid]: ` prefix (journal_units() reads the unit in it).
_ONE_UNIT = rf"{_STAMP}[ \t]+[\w.-]{{1,253}}[ \t]+[\w.@/()-]{{1,120}}?(?:\[\d+\])?:[ \t]?"
_UNIT_PREFIX = re.compile(rf"(?m)^[ \t]*{_ONE_UNIT}")
# docker-compose / `docker compose logs`: `dellomsa_1  | `, `web-1  | ` (the replica number
# is what tells it from a table cell).
_COMPOSE_PREFIX = re.compile(r"(?m)^[ \t]*[A-Za-z][\w.-]{0,62}[_-]\d{1,3}[ \t]+\|[ \t]?")
# CI and agent logs: `2021-06-29 09:59:08.929 |  <line>` (a timestamp, then a bar).
_STAMP_BAR_PREFIX = re.compile(rf"(?m)^[ \t]*{_STAMP}[ \t]*\|[ \t]?")
# Test-harness logs (autotest, avocado): `01:56:36 DEBUG| [stdout] driver: vif`, the command's
# output behind a clock, a level and a bar.
_HARNESS_PREFIX = re.compile(r"(?m)^[ \t]*\d\d:\d\d:\d\d[ \t]+(?:DEBUG|INFO|WARNI(?:NG)?|ERROR)[ \t]*\|[ \t]?(?:\[std(?:out|err)\][ \t]?)?")
# Python logging's `[2025-09-18 13:24:06] - DEBUG - ` (archinstall and other installers' logs).
_BRACKET_LEVEL_PREFIX = re.compile(
    rf"(?m)^[ \t]*\[{_STAMP}\][ \t]+-[ \t]+(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)[ \t]+-[ \t]?"
)
# VBox.log: `00:00:01.524546 DMI Product Name: VirtualBox` (time since start, microseconds). Its
# head describes the machine VirtualBox runs on, in `KEY: value` lines the sweep reads.
_VBOX_LOG_PREFIX = re.compile(r"(?m)^[ \t]*\d{1,3}:\d\d:\d\d\.\d{6}[ \t]+")


# The unit of a journald/syslog line (`<stamp> <host> google_guest_agent[662]: `), which
# strip_prefixes removes with the rest of the prefix: journal_units() reads it first.
# A quote in front, or another logger's prefix (a journal relayed through syslog), may come first.
_UNIT_NAME = re.compile(
    rf"(?m)^[ \t]*(?:>(?:[ \t]?>)*[ \t]?)?(?:{_ONE_UNIT}){{0,2}}"
    rf"{_STAMP}[ \t]+(?P<host>[\w.-]{{1,253}})[ \t]+(?P<unit>[\w.@/()-]{{1,120}}?)(?:\[\d+\])?:[ \t]?"
)
MAX_UNITS = 200
MAX_HOSTS = 8  # a paste is one machine's, or a few machines' logs


def journal_units(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(line number, unit) of each distinct unit that logged a line, and (line number, host)
    of each distinct host name in the prefixes, first line first: who logged a line says
    what runs on the machine (a cloud's guest agent, VMware Tools), the host name a cloud
    gave it says where, and the prefix is stripped before anything else reads the paste."""
    if ":" not in text:
        return [], []
    first = _UNIT_NAME.match(text)
    matches = itertools.chain((first,) if first else (), _led(_UNIT_NAME).finditer(text))
    units: list[tuple[int, str]] = []
    hosts: list[tuple[int, str]] = []
    seen: set[str] = set()
    seen_hosts: set[str] = set()
    line, last = 1, 0
    for m in matches:
        unit, host = m.group("unit"), m.group("host")
        new_unit = unit not in seen and unit != "kernel"
        new_host = host not in seen_hosts and len(hosts) < MAX_HOSTS
        if not (new_unit or new_host):
            continue
        at = m.start() if m is first else m.start() + 1  # a led match starts at the newline
        line += text.count("\n", last, at)
        last = at
        if new_host:
            seen_hosts.add(host)
            hosts.append((line, host))
        if new_unit:
            seen.add(unit)
            units.append((line, unit))
            if len(units) >= MAX_UNITS:
                break
    return units, hosts


@functools.cache
def _led(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The prefix as a search that starts at the newline before a line: the engine jumps from
    newline to newline in C, where `(?m)^` is tried at every character."""
    return re.compile("\n" + pattern.pattern.removeprefix("(?m)^"))


def _sub(pattern: re.Pattern[str], repl: str, text: str) -> str:
    # Most pastes have none of these prefixes: only one that has some pays for the substitution.
    if pattern.match(text) is None and _led(pattern).search(text) is None:
        return text
    return pattern.sub(repl, text)


# (behind a quote or a logger's prefix too, which strip_prefixes removes first)
_COMPOSE_SERVICE = re.compile(
    rf"(?m)^[ \t]*(?:>(?:[ \t]?>)*[ \t]?)?(?:{_ONE_UNIT}){{0,2}}(?P<service>[A-Za-z][\w.-]{{0,62}}[_-]\d{{1,3}})[ \t]+\|"
)


def compose_service(text: str) -> tuple[int, str] | None:
    """(line number, name) of the first docker-compose service whose prefix (`web-1  | `) starts
    two or more lines: the lines behind it are a container's output, and strip_prefixes
    removes the prefix before anything else reads the paste."""
    if "|" not in text:
        return None
    first: dict[str, int] = {}
    for n, m in enumerate(_COMPOSE_SERVICE.finditer(text)):
        if n >= 200:
            break
        name = m.group("service")
        if name in first:
            return text.count("\n", 0, first[name]) + 1, name
        first[name] = m.start()
    return None


def strip_prefixes(text: str) -> str:
    """Remove quote, journald/syslog and docker-compose line prefixes (line count unchanged)."""
    if ">" in text:
        text = _sub(_QUOTE, "", text)
    if ":" in text:
        text = _sub(_KERNEL_PREFIX, "kernel: ", text)
        stripped = _sub(_UNIT_PREFIX, "", text)
        if stripped is not text and ">" in stripped:
            stripped = _sub(_QUOTE, "", stripped)  # a quote logged by a unit: `app[12]: > ...`
        text = stripped
    if "] - " in text:
        text = _sub(_BRACKET_LEVEL_PREFIX, "", text)
    if "|" in text:
        text = _sub(_COMPOSE_PREFIX, "", text)
        text = _sub(_STAMP_BAR_PREFIX, "", text)
        text = _sub(_HARNESS_PREFIX, "", text)
    if "VirtualBox" in text:
        text = _sub(_VBOX_LOG_PREFIX, "", text)
    return text
