"""The segment-free sweep: every line of the paste is read for facts that name themselves.

The segmenter's attribution of a line to a tool is a guess. A paste laid out in a way it
does not know (a new prompt shape, `a; b` on one prompt, a quote, a log prefix, a tool with
no parser) must never hide `Product Name: VMware Virtual Platform` or `systemd-detect-virt`
printing `kvm`. So, besides the per-tool parsers, one pass over the whole normalised paste
turns

* `KEY: value`, `KEY=value`, `"KEY": "value"`, `KEY => value` lines whose key is in
  `sweep.yaml` (DMI strings, hypervisor vendor, inventory tools' own virtual/physical fields,
  cloud-init's `DMI_PRODUCT_NAME=`, bench scripts' `Virtualization : KVM`...) into facts, and
* the word after a `systemd-detect-virt` / `virt-what` command line (whatever its prompt)
  into `virt.detected` / `virt_what.output`.

Self-identifying raw lines (`Hypervisor detected: KVM`, virtio/VMware/Hyper-V devices,
bare DMI values such as a lone `VMware Virtual Platform` line) are line signatures marked
`anywhere` in `signatures.yaml`, scanned over the whole paste by `rules.scan_lines("*", ...)`.

Precedence with the parsers (see `merge`): a parser's fact on a line wins over the sweep's
fact on the same line (the parser knows the record the line is in); for keys whose meaning
depends on the record (`Manufacturer:` in a dmidecode memory record), the sweep leaves the
lines inside that tool's sections to its parser. Everything else the sweep found is kept.
Facts whose shape alone says what they are (`detector/shapes.py`: a column table under its
header, fastfetch's JSON modules, fwupd's tree root and hwids block) and the kernel's
`DMI:`/`Hardware name:` line are kept wherever they are, unless a parser read the same line.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

import yaml

from detector.parsers import Fact

MAX_SWEEP_FACTS = 400


@dataclass(frozen=True, slots=True)
class _Key:
    fact: str
    owned_by: frozenset[str]
    # The value ends at this string (archinstall's `Hardware model detected: X; UEFI mode: True`).
    cut: str | None = None


def _canon(key: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", key.strip().lower())


@functools.cache
def _rows() -> tuple[dict, ...]:
    """sweep.yaml's rows, read once."""
    text = resources.files("detector").joinpath("sweep.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader


@functools.cache
def _vocabulary() -> tuple[dict[str, _Key], re.Pattern[str]]:
    table: dict[str, _Key] = {}
    for row in _rows():
        k = _Key(row["fact"], frozenset(row.get("owned_by", ())), row.get("cut"))
        for name in row["keys"]:
            table[_canon(str(name))] = k
    # One alternation of every key, spelled with any of ` _.-` between its words.
    alts = sorted(
        (r"[\s_.\-]+".join(re.escape(w) for w in name.split(" ")) for name in table), key=len, reverse=True
    )
    pattern = re.compile(
        # Quotes include Markdown's backticks: "- `/sys/class/dmi/id/sys_vendor`: `QEMU`".
        r"(?im)^[ \t]*(?:[-*•][ \t]+)?(?:cat[ \t]+)?[\"'`]?"
        r"(?:/sys/(?:class|devices/virtual)/dmi/id/|[^\n]{0,100}?\b(?:Detected|Unknown)[ \t]+)?"
        # msinfo32 and other Windows exports separate key and value by a tab.
        # wmic's array values are braced: `BIOSVersion={"BOCHS  - 1"}`.
        # Report scripts pad keys with leaders: `Container ______ : docker`, `Virtualization .... : KVM`.
        r"(?P<key>" + "|".join(alts) + r")[\"'`]?(?:[ \t]*(?:=>|:|=|\|)[ \t]*|[ \t]*(?:_{3,}|\.{3,})[ \t]*(?:=>|:|=|\|)[ \t]*|\t+)(?:\{(?=[\"'`]))?[\"'`]?"
        r"(?P<value>[^\"'`\n]{0,200}?)[\"'`]?\}?[ \t]*,?[ \t]*$"
    )
    return table, pattern


@functools.cache
def _xml_pattern() -> re.Pattern[str]:
    """The vocabulary's keys as XML: PowerShell's CLIXML (`<S N="CsModel">…</S>`,
    `<Property Name="Model">…</Property>`) and plain elements (`<Manufacturer>…</Manufacturer>`)."""
    table, _ = _vocabulary()
    alts = sorted(
        (r"[\s_.\-]*".join(re.escape(w) for w in name.split(" ")) for name in table), key=len, reverse=True
    )
    key = r"(?P<key>" + "|".join(alts) + r")"
    return re.compile(
        r"(?i)<(?:S|Property)[ \t]+N(?:ame)?=\"" + key + r"\"[ \t]*>(?P<value>[^<\n]{1,200})</"
        r"|<" + key.replace("?P<key>", "?P<key2>") + r">(?P<value2>[^<\n]{1,200})</"
    )


def _xml_facts(text: str) -> list[Fact]:
    table, _ = _vocabulary()
    out: list[Fact] = []
    line, last = 1, 0
    for m in _xml_pattern().finditer(text):
        name = m.group("key") or m.group("key2")
        value = (m.group("value") or m.group("value2") or "").strip()
        key = table.get(_canon(name))
        if key is None or not value:
            continue
        line += text.count("\n", last, m.start())
        last = m.start()
        out.append(Fact(key.fact, value, line, m.group(0)))
        if len(out) >= MAX_SWEEP_FACTS:
            break
    return out


# The word a virt tool printed, on the line after its command (any prompt, or none).
_VIRT_WORD = re.compile(
    r"(?m)^[^\n]{0,120}?\b(?P<tool>systemd-detect-virt|virt-what)\b[^\n;&|]{0,60}[ \t]*\n"
    r"(?:[ \t]*\n)?[ \t]*(?P<word>[a-z][a-z0-9_-]{1,24})[ \t]*$"
)


_VIRT_TOOLS = ("systemd-detect-virt", "virt-what")


def _virt_words(text: str) -> Iterator[re.Match[str]]:
    """`_VIRT_WORD.finditer(text)`, tried only at the lines that name a virt tool (found by
    str.find): the regex alone tries up to 120 characters of every line of the paste."""
    starts: set[int] = set()
    for tool in _VIRT_TOOLS:
        i = text.find(tool)
        while i >= 0:
            starts.add(text.rfind("\n", 0, i) + 1)
            nl = text.find("\n", i)
            i = text.find(tool, nl + 1) if nl >= 0 else -1
    end = 0
    for start in sorted(starts):
        if start < end:
            continue  # inside the last match, where finditer does not look either
        m = _VIRT_WORD.match(text, start)
        if m is not None:
            yield m
            end = m.end()


# ohai's `"virtualization": {"systems": {...}, "system": "openstack", "role": "guest"}`: the
# keys `system` and `role` mean something only inside that block.
# (`ohai virtualization` and `ohai | jq .virtualization` print the block itself, with no key
# around it, sometimes after a log line or two.)
_OHAI = re.compile(
    r'"virtualization"[ \t]*:[ \t]*\{'
    r'|\bohai\b[^\n]{0,80}?\bvirtualization\b[^\n]*\n(?:[^\n{]{0,300}\n){0,3}?[ \t]*\{'
)
_OHAI_FIELD = re.compile(r'"(?P<k>system|role)"[ \t]*:[ \t]*"(?P<v>[\w/-]{1,40})"')

def _ohai_facts(text: str) -> list[Fact]:
    out: list[Fact] = []
    for n, m in enumerate(_OHAI.finditer(text)):
        if n >= 5:
            break
        block = text[m.end() : m.end() + 600]
        # Skip the nested `systems` object: its entries are every technology seen, host or guest.
        inner = re.sub(r'"systems"[ \t]*:[ \t]*\{[^{}]*\}', "", block)
        inner = inner.split("}", 1)[0]
        fields = {f.group("k"): f for f in _OHAI_FIELD.finditer(inner)}
        # `system` is the machine's own technology only when `role` says guest: a KVM host says
        # `"system": "kvm", "role": "host"` (then it is ansible's kind of hint, nothing more).
        guest = "role" in fields and fields["role"].group("v") == "guest"
        for k, f in fields.items():
            at = m.end() + block.find(f.group(0))
            line = text.count("\n", 0, at) + 1
            key = ("inventory.virt" if guest else "inventory.virt_type") if k == "system" else "inventory.role"
            out.append(Fact(key, f.group("v"), line, f.group(0)))
    return out


def _value_below(text: str, m: re.Match[str]) -> str:
    """The plain scalar on the line under an empty `key:` line, when it is indented deeper."""
    if text.find(":", m.start(), m.end()) < 0:
        return ""  # only `key:` opens a nested value (not `key=` or `key |`)
    start = m.end() + 1
    end = text.find("\n", start)
    nxt = text[start : end if end >= 0 else len(text)]
    indent = len(m.group(0)) - len(m.group(0).lstrip(" \t"))
    stripped = nxt.strip()
    if (
        not stripped
        or len(nxt) - len(nxt.lstrip(" \t")) <= indent
        or ":" in stripped
        or stripped[0] in "-#[{|>"
        or len(stripped) > 120
    ):
        return ""
    return stripped


# A distro kernel release with a cloud's flavour (`5.15.0-1022-aws`), wherever it stands: a bug
# template's `Kernel: \`uname -r\` 5.15.0-1022-aws`, a path, a log line.
# (Debian's cloud flavour `6.1.0-13-cloud-amd64` is built for VMs and lacks most hardware drivers.)
_FLAVOURS = ("-aws", "-gcp", "-gke", "-azure", "-oracle", "-kvm", "-cloud-amd64", "-cloud-arm64")
_CLOUD_KERNEL = re.compile(
    r"(?<![\w.])\d{1,2}\.\d{1,2}\.\d{1,3}-\d{1,5}-(?:aws|gcp|gke|azure|oracle|kvm|cloud-amd64|cloud-arm64)(?![\w-])"
)
MAX_KERNEL_FACTS = 5
MAX_FLAVOUR_LOOKS = 2000


def _cloud_kernels(text: str) -> list[Fact]:
    """Tried only where a flavour's suffix stands (str.find): a regex that starts with a digit
    would be tried at every character of a 10 MB paste."""
    found: dict[int, str] = {}
    looks = 0
    for suffix in _FLAVOURS:
        i = text.find(suffix)
        while i >= 0 and looks < MAX_FLAVOUR_LOOKS and len(found) < MAX_KERNEL_FACTS:
            looks += 1
            m = _CLOUD_KERNEL.search(text, max(0, i - 24), i + len(suffix) + 1)
            if m is not None:
                found.setdefault(m.start(), m.group(0))
            i = text.find(suffix, i + 1)
    return [
        Fact("kernel.release", value, text.count("\n", 0, at) + 1, value) for at, value in sorted(found.items())
    ]


# A multi-line output stored as one JSON string (`"systeminfo": "\nHost Name: ...\nSystem
# Manufacturer: Alienware\n..."`, a health check's `"Output": "{\n\t\"container\": ...`): its
# `KEY: value` lines are read as well, at the line that holds the string.
_ESCAPED_NL = "\\n"
MIN_ESCAPED_LINES = 2
MAX_ESCAPED_BLOCKS = 50
_ESCAPES = {"\\n": "\n", "\\t": "\t", '\\"': '"', "\\r": "", "\\\\": "\\"}
_ESCAPE = re.compile(r"\\[ntr\"\\]")


def _escaped_blocks(text: str) -> Iterator[tuple[int, str]]:
    """(line number, decoded text) of lines that hold two or more escaped newlines."""
    pos, blocks = text.find(_ESCAPED_NL), 0
    while pos >= 0 and blocks < MAX_ESCAPED_BLOCKS:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if line.count(_ESCAPED_NL) >= MIN_ESCAPED_LINES:
            blocks += 1
            yield text.count("\n", 0, start) + 1, _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], line[:200_000])
        pos = text.find(_ESCAPED_NL, end)


def _quick_reject(text: str) -> bool:
    return ":" not in text and "=" not in text and "|" not in text and "\t" not in text and "virt" not in text


def _keyed(table: dict[str, _Key], m: re.Match[str], value: str) -> tuple[_Key, str] | None:
    """The vocabulary key a `KEY: value` match names and its value (cut where the key says)."""
    key = table.get(_canon(m.group("key")))
    if key is None:
        return None
    if key.cut:
        value = value.split(key.cut, 1)[0].strip()
    return (key, value) if value else None


def facts(text: str) -> list[Fact]:
    """Facts of every `KEY: value` line of the vocabulary, and virt tools' words, anywhere."""
    return [f for f, _ in owned_facts(text)]


def owned_facts(text: str) -> list[tuple[Fact, frozenset[str]]]:
    """`facts(text)`, each with the tools that own it: a `KEY: value` fact its key's tools
    (archinstall's `Hardware model detected:` belongs to no tool, `Host:` to fetch and inxi),
    any other fact the tools of its fact key (see `merge`)."""
    if _quick_reject(text):
        return []
    table, pattern = _vocabulary()
    keyed: list[tuple[Fact, frozenset[str]]] = []
    line, last = 1, 0
    for m in pattern.finditer(text):
        value = m.group("value").strip()
        below = 0
        if not value:
            # Salt's nested output puts the value on the next, deeper-indented line
            # (`manufacturer:` / `    Red Hat`).
            value = _value_below(text, m)
            below = 1
            if not value:
                continue
        got = _keyed(table, m, value)
        if got is None:
            continue
        line += text.count("\n", last, m.start())
        last = m.start()
        keyed.append((Fact(got[0].fact, got[1], line + below, m.group(0)), got[0].owned_by))
        if len(keyed) >= MAX_SWEEP_FACTS:
            break
    if _ESCAPED_NL in text:
        for at, block in _escaped_blocks(text):
            for m in pattern.finditer(block):
                got = _keyed(table, m, m.group("value").strip())
                if got is not None and len(keyed) < MAX_SWEEP_FACTS:
                    keyed.append((Fact(got[0].fact, got[1], at, m.group(0)), got[0].owned_by))
    out: list[Fact] = []
    out += _cloud_kernels(text)
    if "</" in text:
        out += _xml_facts(text)
    if '"virtualization"' in text or ("ohai" in text and "virtualization" in text):
        ohai = _ohai_facts(text)
        # Inside ohai's block `"system": "kvm"` is its field, not a `System:` maker line.
        lines = {f.line for f in ohai}
        keyed = [(f, tools) for f, tools in keyed if f.line not in lines]
        out = [f for f in out if f.line not in lines] + ohai
    line, last = 1, 0
    for m in _virt_words(text):
        start = m.start("word")
        line += text.count("\n", last, start)
        last = start
        key = "virt.detected" if m.group("tool") == "systemd-detect-virt" else "virt_what.output"
        out.append(Fact(key, m.group("word"), line, m.group("word")))
    owned = _owned_by()
    return keyed + [(f, owned.get(f.key, frozenset())) for f in out]


@functools.cache
def system_makers() -> dict[str, frozenset[str]]:
    """fact -> the hardware vendors its value may stand for (rows with `system_makers`)."""
    return {r["fact"]: frozenset(r["system_makers"]) for r in _rows() if "system_makers" in r}


@functools.cache
def _owned_by() -> dict[str, frozenset[str]]:
    # A fact may come from several rows of sweep.yaml (`system.product` from `Product Name`
    # and from `instance-type`): its owners are all of theirs.
    table, _ = _vocabulary()
    owners: dict[str, frozenset[str]] = {}
    for k in table.values():
        owners[k.fact] = owners.get(k.fact, frozenset()) | k.owned_by
    return owners


def owning_tools() -> frozenset[str]:
    """Every tool that owns some key (its sections are remembered for `merge`)."""
    return frozenset(t for tools in _owned_by().values() for t in tools)


def merge(
    parsed: list[Fact], swept: Iterable[tuple[Fact, frozenset[str]]], spans: list[tuple[int, int, str]]
) -> list[Fact]:
    """The sweep's facts (`owned_facts`) that add something: not on a line a parser already
    read, and not inside a section of a tool that owns them. `spans`: (first line, last line, tool)."""
    taken = {f.line for f in parsed}
    starts = [a for a, _, _ in spans]
    out: list[Fact] = []
    for f, tools in swept:
        if f.line in taken:
            continue
        if tools and spans:
            # Sections come in line order and never overlap: the one holding the line, if any.
            i = bisect.bisect_right(starts, f.line) - 1
            if i >= 0 and spans[i][1] >= f.line and spans[i][2] in tools:
                continue
        out.append(f)
    return out
