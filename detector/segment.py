"""Split a pasted message into per-tool sections.

A paste is any mix of command outputs, with or without shell prompts, inside ```
fences, with ANSI colours, CRLF, tabs turned into spaces, or even with all newlines
flattened into single spaces by a chat client. `normalize()` cleans that up without
changing the line count (so evidence can quote the user's own line numbers), and
`split()` cuts the text into `Section`s, each with the tool it came from.

Boundaries come from two places, checked line by line in one regex pass:
prompt lines (`$ lscpu`, `root@host:~# dmidecode -t system`, `PS C:\\> systeminfo`)
name the tool explicitly; without prompts, content markers (`Handle 0x0001, DMI type`,
`Architecture:`, `processor : 0`, `[    0.000000]`, `00:02.0 VGA ...`) start a section.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from detector import layout

# ANSI CSI/OSC sequences: colours from `ls --color`, `inxi`, `neofetch`, journalctl.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# A fence and its info string go; anything after them on the same line stays ("```~ # dmidecode").
_FENCE = re.compile(r"(?m)^[ \t]*(?:```|~~~)(?:[\w+.-]*[ \t]*$)?")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Which command words name which tool. Checked in order; the first hit wins.
_COMMAND_TOOLS: tuple[tuple[str, str], ...] = (
    ("virt-what-cpuid-helper", "cpuid"),
    ("virt-what", "virt_what"),
    ("systemd-detect-virt", "systemd_detect_virt"),
    ("dmidecode", "dmidecode"),
    ("/sys/class/dmi", "dmi_sysfs"),
    ("/sys/class/net", "ip"),
    ("device-tree/model", "devicetree"),
    ("devicetree/base/model", "devicetree"),
    ("ethtool", "ethtool"),
    ("/sys/devices/virtual/dmi", "dmi_sysfs"),
    ("lscpu", "lscpu"),
    ("cpuinfo", "cpuinfo"),
    ("lspci", "lspci"),
    ("lsusb", "lsusb"),
    ("lshw", "lshw"),
    ("inxi", "inxi"),
    ("neofetch", "fetch"),
    ("fastfetch", "fetch"),
    ("screenfetch", "fetch"),
    ("hostnamectl", "hostnamectl"),
    ("dmesg", "dmesg"),
    ("journalctl", "dmesg"),
    ("cgroup", "cgroup"),
    ("environ", "environ"),
    ("/status", "proc_status"),
    ("lsmod", "lsmod"),
    ("uname", "uname"),
    ("/proc/version", "uname"),
    ("ifconfig", "ip"),
    ("ip link", "ip"),
    ("ip l", "ip"),
    ("ip a", "ip"),
    ("ip -", "ip"),
    ("lsblk", "disks"),
    ("smartctl", "disks"),
    ("hdparm", "disks"),
    ("by-id", "disks"),
    ("nvme list", "disks"),
    ("nvme id-ctrl", "disks"),
    ("systeminfo", "windows"),
    ("get-computerinfo", "windows"),
    ("get-ciminstance", "windows"),
    ("wmic", "windows"),
    ("coreinfo", "windows"),
    ("msinfo32", "windows"),
)

# Commands we know that have no structured parser; their lines are still scanned.
_KNOWN_COMMANDS = (
    "cat",
    "ls",
    "grep",
    "sudo",
    "tr",
    "find",
    "head",
    "tail",
    "systemctl",
    "docker",
    "podman",
    "lxc",
    "virsh",
    "qm",
    "pct",
    "xl",
    "free",
    "df",
    "ip",
    "lsmod",
    "uptime",
    "hostname",
    "whoami",
    "id",
)

# Prompt lines: `$ cmd`, `user@host:~$ cmd`, `[user@host dir]# cmd`, `host% cmd` / `host# cmd` (zsh, BSD), `PS C:\> cmd`,
# `C:\Users\me> cmd`, `user@:~$ cmd` (the host name redacted by the poster). A bare `# ...` counts only when a known command follows, because
# dmidecode prints `# dmidecode 3.3` and s390 cpuinfo has `# processors : 1`.
_PROMPT = re.compile(
    r"""^[ \t]*(?:
        (?:\([\w.-]{1,64}\)[ \t]*)?(?:\[?[\w.-]{1,64}@[\w.-]{0,253}[: ][^\n$#%>]{0,80}\]?[ \t]*[$#%]|[A-Za-z][\w.-]{0,63}[%#]|\$|%|❯|➜[^\n]{0,40}?\s)
        |PS[ \t][A-Za-z]:[^\n>]{0,80}>
        |[A-Za-z]:\\[^\n>]{0,80}>
    )[ \t]+(?P<cmd>\S[^\n]*)$""",
    re.VERBOSE,
)
_DMIDECODE_HEADER = re.compile(r"^[ \t]*#[ \t]*dmidecode[ \t]+\d")
_ROOT_PROMPT = re.compile(r"^[ \t]*#[ \t]+(?P<cmd>(?:sudo[ \t]+)?(?P<word>[\w./-]+)[^\n]*)$")

# Content markers: a line that starts a tool's output even without a prompt.
_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^#[ \t]*dmidecode[ \t]+\d"), "dmidecode"),
    (
        re.compile(r"^(?:Handle 0x[0-9A-Fa-f]{4}, DMI type|SMBIOS \d[\d.]* present|Getting SMBIOS data)"),
        "dmidecode",
    ),
    (
        # hostnamectl prints `Architecture: x86-64` / `arm64`; lscpu says x86_64 / aarch64.
        re.compile(
            r"^[ \t]*(?:Architecture:[ \t]+(?!x86-64\b|arm64\b)|(?:Hypervisor vendor|Virtualization type|CPU op-mode\(s\)):[ \t]+)\S"
        ),
        "lscpu",
    ),
    (re.compile(r"^(?:System|BIOS|Base Board|Chassis|Processor) Information[ \t]*$"), "dmidecode"),
    # cpuinfo's own tab-separated `flags\t\t:` / `fpu\t\t:` start an excerpt cut mid-record.
    (re.compile(r"^(?:processor[ \t]*:[ \t]*\d|vendor_id[ \t]*:|cpu[ \t]+:[ \t]*POWER|(?:flags|fpu)\t+:[ \t])"), "cpuinfo"),
    (re.compile(r"^\[[ \t]*\d+\.\d+\][ \t]"), "dmesg"),
    # `dmesg -T` ([Fri Oct  7 12:51:22 2022]), `dmesg -H` ([  +0.000050]), and the `kernel: `
    # head that layout.strip_prefixes leaves on journald/syslog kernel lines.
    (re.compile(r"^(?:\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2}[ \t]+\d{1,2} \d\d:\d\d:\d\d \d{4}\]|\[[ \t]*\+\d+\.\d+\]|kernel:)[ \t]"), "dmesg"),
    (re.compile(r"^[A-Z][a-z]{2}[ \t]+\d{1,2}[ \t]+\d\d:\d\d:\d\d[ \t]+\S+[ \t]+kernel:"), "dmesg"),
    (re.compile(r"^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7][ \t]+[A-Z]"), "lspci"),
    (re.compile(r"^Bus[ \t]+\d{3}[ \t]+Device[ \t]+\d{3}:[ \t]+ID[ \t]"), "lsusb"),
    (re.compile(r"^\d+:[ \t]+[\w@.:-]+:[ \t]+<"), "ip"),
    # `ip -br link`: name, state, MAC, flags.
    (
        re.compile(
            r"^[\w.@-]{1,64}[ \t]+(?:UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT)[ \t]+[0-9a-f]{2}(?::[0-9a-f]{2}){5}[ \t]+<"
        ),
        "ip",
    ),
    (re.compile(r"^driver:[ \t]+[\w.-]+[ \t]*\n(?:version|firmware-version):"), "ethtool"),
    (re.compile(r"^(?:H/W path|Bus info)[ \t]+(?:Device[ \t]+)?Class[ \t]+Description"), "lshw"),
    (re.compile(r"^[ \t]*Static hostname:"), "hostnamectl"),
    (re.compile(r"^\d+:[\w,=]*:/"), "cgroup"),
    (re.compile(r"^Linux[ \t]+\S+[ \t]+\d+\.\d+[\w.+-]*[ \t]"), "uname"),
    (re.compile(r"^Linux version[ \t]+\d"), "uname"),
    (re.compile(r"^(?:System|Machine):[ \t]+(?:Host|Kernel|Type):"), "inxi"),
    # inxi 3.x: the section name alone on its line, its fields indented below.
    (
        re.compile(
            r"^(?:System|Machine|CPU|Drives):[ \t]*\n[ \t]+(?:Host|Kernel|Type|Info|Local Storage|System|Mobo):"
        ),
        "inxi",
    ),
    # Not `Firmware Version:`: smartctl prints it under every disk's Device Model, and a
    # hostnamectl section opened there swallowed the disk listings after it.
    (
        re.compile(
            r"^[ \t]*(?:Hardware Vendor|Hardware Model|Operating System|Icon name):[ \t]+\S"
        ),
        "hostnamectl",
    ),
    (re.compile(r"^/sys/(?:class|devices/virtual)/dmi/id/\w+:"), "dmi_sysfs"),
    # lshw: the top node's description followed by its product.
    (re.compile(r"^[ \t]+description:[ \t]+[^\n]*\n[ \t]+product:"), "lshw"),
    (
        re.compile(
            r"^[ \t]*\*-(?:core|firmware|cpu(?::\d+)?|memory|pci(?::\d+)?|disk(?::\d+)?|network(?::\d+)?)[ \t]*$"
        ),
        "lshw",
    ),
    (
        re.compile(
            r"^(?:smartctl[ \t]+\d+\.\d|=== START OF INFORMATION SECTION|ATA device, with|NAME[ \t]+[A-Z:,% \t-]{0,80}\bMODEL\b"
            r"|(?:Model Family|Device Model|Model Number):[ \t]+\S"
            r"|Node[ \t]+(?:Generic[ \t]+)?SN[ \t]+Model[ \t])"
        ),
        "disks",
    ),
    (re.compile(r"^(?:System Manufacturer|System Model|OS Name):[ \t]+\S"), "windows"),
    (re.compile(r"^Module[ \t]+Size[ \t]+Used by"), "lsmod"),
    (re.compile(r"^Host Name:[ \t]+\S"), "windows"),
    (re.compile(r"^OS Name:[ \t]+Microsoft"), "windows"),
)

# Keys that begin a new line in a flattened paste (newlines turned into spaces).
_FLAT_KEYS = (
    "Handle 0x",
    "BIOS Information",
    "System Information",
    "Base Board Information",
    "Chassis Information",
    "Processor Information",
    "Vendor:",
    "Manufacturer:",
    "Product Name:",
    "Version:",
    "Serial Number:",
    "UUID:",
    "Family:",
    "SKU Number:",
    "Type:",
    "Architecture:",
    "CPU op-mode",
    "CPU(s):",
    "Vendor ID:",
    "Model name:",
    "Hypervisor vendor:",
    "Virtualization type:",
    "Virtualization:",
    "Flags:",
    "processor :",
    "processor\t:",
    "vendor_id",
    "model name",
    "flags",
    "Static hostname:",
    "Chassis:",
    "Machine ID:",
    "Boot ID:",
    "Operating System:",
    "Kernel:",
    "Hardware Vendor:",
    "Hardware Model:",
    "Firmware Version:",
    "Host:",
)
# The lookbehind pins each match to the start of a whitespace run: linear on long runs. It
# comes after the first blank so that the regex engine can skip to blanks in C.
_FLAT_SPLIT = re.compile(
    r"[ \t](?<![ \t][ \t])[ \t]*(?=(?:"
    + "|".join(re.escape(k) for k in _FLAT_KEYS)
    + r")|\$[ \t]|\[[ \t]*\d+\.\d{6}\]|(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7][ \t][A-Z]|Bus \d{3} Device)"
)


@dataclass(frozen=True, slots=True)
class Section:
    """A block of the paste that one tool printed."""

    tool: str  # parser name: "dmidecode", "lscpu", ... or "other"
    command: str | None  # the prompt's command, when the paste had one
    start: int  # 1-based line number (in the normalized paste) of `text`'s first line
    text: str  # the block's lines, joined with "\n"


def normalize(text: str) -> str:
    """Clean a paste without changing its line count: BOM, CRLF, ANSI, fences, control chars."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("", text)
    text = _CTRL.sub("", text)
    if "\xa0" in text:
        text = text.replace("\xa0", " ")
    text = layout.strip_prefixes(text)
    if (text.count("\n") <= 2 and len(text) > 120) or _has_squashed_lines(text):
        text = unflatten(text)
    return text


def _has_squashed_lines(text: str) -> bool:
    """A short paste some of whose lines are whole outputs squashed onto one line (a blog or a
    chat client that dropped the newlines of each console block): a long line holding three
    or more known keys. Then the whole paste is unflattened (its line numbers are lost anyway)."""
    if text.count("\n") > 12 or len(text) < 150:
        return False
    return any(len(line) > 150 and len(_FLAT_SPLIT.findall(line, 0, 20_000)) >= 3 for line in text.split("\n"))


def unflatten(text: str) -> str:
    """Re-insert newlines before known keys when a chat client squashed a paste to one line."""
    # A fence on one line (```text ... ```) leaves its markers inside the line.
    text = text.replace("```", " ")
    return _FLAT_SPLIT.sub("\n", text)


_COMMAND_READ = 2000  # characters of a command line read for its tool and its parts


@functools.lru_cache(maxsize=1024)
def _tool_for_command(cmd: str) -> str:
    # A tool is named near the start of its command line; a "command" of megabytes (a paste
    # flattened after a prompt) is not lower-cased whole.
    low = cmd[:_COMMAND_READ].lower()
    for needle, tool in _COMMAND_TOOLS:
        if needle in low:
            return tool
    return "other"


# Prompts of the shapes people really paste, which the strict pattern above does not know:
# `[nix-shell:~]$`, `[12:46 localhost ~]#`, `~#`, `~ $`, `~/src $`, `/ #`, `host:~ #`,
# `sh-5.2$`, `bash-4.4#`, `user@host ~>` (fish), `» ` / `λ ` themes. Looser shapes, so the
# command after them must start with a word we know (a tool, or `cat`, `sudo`, ...).
_LOOSE_PROMPT = re.compile(
    r"""^[ \t]*(?:
        \[[^\]\n]{1,80}\][ \t]*[$#%]
        |~[^\s$#%>]{0,80}[ \t]*[$#%]
        |/[^\s$#%>]{0,80}[ \t]*[$#]
        |[\w.-]{1,64}:[^\s$#%>]{0,80}[ \t]*[$#%]
        |(?:ba|z|da|k|fi|a)?sh-\d[\d.]*[$#]
        |[\w.-]{1,64}@[\w.-]{1,253}[ \t]+[^\s>]{0,80}[ \t]*>
        |[»λ→]
    )[ \t]+(?P<cmd>(?:sudo[ \t]+(?:-\S+[ \t]+)*)?(?P<word>[\w./-]+)[^\n]*)$""",
    re.VERBOSE,
)


def _known_word(word: str) -> bool:
    word = word.rsplit("/", 1)[-1].lower()
    return word in _KNOWN_COMMANDS or _tool_for_command(word) != "other" or word in _MORE_COMMANDS


# Command words that make a loose prompt believable (besides the tools and _KNOWN_COMMANDS).
_MORE_COMMANDS = frozenset(
    (
        "echo", "for", "while", "sh", "bash", "zsh", "wget", "curl", "python", "python3",
        "facter", "ohai", "ansible", "salt", "salt-call", "osqueryi", "cloud-init", "ds-identify",
        "cpufetch", "hwinfo", "dmesg", "journalctl", "lsblk", "ls", "pveversion", "vmware-checkvm",
        "imvirt", "virt-host-validate", "bench.sh", "yabs.sh", "uname", "nproc", "mount", "findmnt",
        "stat", "file", "printenv", "env", "set", "nvme", "ipmitool", "lsb_release", "cat",
    )
)


def prompt_command(line: str) -> str | None:
    """The command on a shell prompt line, or None if the line is not a prompt."""
    m = _PROMPT.match(line)
    if m:
        return m.group("cmd").strip()
    if len(line) < 2000:
        m = _LOOSE_PROMPT.match(line)
        if m and _known_word(m.group("word")):
            return m.group("cmd").strip()
    m = _ROOT_PROMPT.match(line)
    if m and not _DMIDECODE_HEADER.match(line):
        word = m.group("word").rsplit("/", 1)[-1].lower()
        if word in _KNOWN_COMMANDS or _tool_for_command(word) != "other":
            return m.group("cmd").strip()
    return None


# Commands typed with no prompt at all: `cat /proc/device-tree/model` (only a system path that
# names a tool makes the line a command: a `cat` of anything else may be prose), and the virt
# tools alone on their line, whose one word of output follows. Found by a search that starts at
# a newline, so lines beginning otherwise cost nothing in Python.
_BARE_CMD = (
    r"(?:sudo[ \t]+)?(?:cat[ \t]+/(?:proc|sys|etc)/[^\s;|&<>$#%]+(?:[ \t]+/[^\s;|&<>$#%]+)*"
    r"|(?:systemd-detect-virt|virt-what)(?:[ \t]+-[\w-]+)*)"
)
_BARE_COMMAND = re.compile(r"[ \t]*(?P<cmd>" + _BARE_CMD + r")[ \t]*(?=\n|$)")
_BARE_COMMAND_LED = re.compile(r"\n(?=[ \t]*" + _BARE_CMD + r")")


def _bare_command_events(text: str) -> Iterator[tuple[int, str, str, int]]:
    """(offset of the line, tool, command, offset of its output) for prompt-less command lines."""
    starts = itertools.chain((0,) if _BARE_COMMAND.match(text) else (), (m.end() for m in _BARE_COMMAND_LED.finditer(text)))
    for start in starts:
        m = _BARE_COMMAND.match(text, start)
        if m is None:
            continue
        tool = _tool_for_command(m.group("cmd"))
        if tool != "other":
            yield start, tool, m.group("cmd").strip(), m.end() + 1


_BARE_PROMPT = re.compile(
    r"^[ \t]*(?:\(?[\w.-]{0,64}\)?[ \t]*)?(?:\[?[\w.-]{1,64}@[\w.-]{1,253}[: ][^\n$#%>]{0,80}\]?[ \t]*[$#%]|[$%#>❯])[ \t]*$"
)


def is_blank_output(text: str) -> bool:
    """True when a command printed nothing: the section holds only blank lines or bare prompts."""
    if len(text) > 2000:
        return False  # real output, and no 10 MB split for a question this small
    return all(not ln.strip() or _BARE_PROMPT.match(ln) for ln in text.split("\n"))


def _marker_tool(line: str) -> str | None:
    """The tool whose output starts at `line` (which may carry the lines after it: some
    markers look one line ahead), or None."""
    for pattern, tool in _MARKERS_M:
        if pattern.match(line):
            return tool
    return None




def _indented(pattern: str) -> str:
    """A marker also starts a tool's output when the paste indents it (a Markdown code block
    indented by four spaces, a quote or list item already stripped of its marker)."""
    if pattern.startswith("^") and not pattern.startswith(("^[ \\t]", "^\\s")):
        return "^[ \t]{0,8}" + pattern[1:]
    return pattern


_MARKERS = tuple((re.compile(_indented(p.pattern)), tool) for p, tool in _MARKERS)

# The markers as the combined scan sees them: `$` ends a line, not the text.
_MARKERS_M = tuple((re.compile(p.pattern, re.MULTILINE), tool) for p, tool in _MARKERS)


# neofetch/fastfetch: `OS: ...` followed within three lines by `Host:` or `Kernel:`; the
# logo may sit left of the fields, so these are found from the literal "OS:", not by a
# line-start marker. The section opens at the `user@host` / `-----` header when present.
_FETCH_OS = re.compile(r"OS:[ \t]+\S")
_FETCH_NEXT = re.compile(r"(?:^|[^\w])(?:Host|Kernel):[ \t]+\S")
_FETCH_RULE = re.compile(r"(?:^|[ \t])-{4,}[ \t]*$")
_FETCH_USER = re.compile(r"(?:^|[ \t])[\w.-]{1,64}@[\w.-]{1,253}[ \t]*$")
_FETCH_MAX_CANDIDATES = 10_000  # "OS:" in a 10 MB paste of something else: stop looking


def fetch_header(lines: list[str], i: int) -> int | None:
    """If line i is a neofetch/fastfetch `OS:` line, the index of the line its block starts at."""
    line = lines[i]
    j = line.find("OS:")
    while j >= 0:
        if (j == 0 or not (line[j - 1].isalnum() or line[j - 1] == "_")) and _FETCH_OS.match(line, j):
            break
        j = line.find("OS:", j + 1)
    if j < 0 or not any(_FETCH_NEXT.search(ln) for ln in lines[i + 1 : i + 4]):
        return None
    if i >= 2 and _FETCH_RULE.search(lines[i - 1]) and _FETCH_USER.search(lines[i - 2]):
        return i - 2
    return i


def _fetch_events(text: str) -> Iterator[tuple[int, str]]:
    """(offset of the line, "fetch") for each neofetch/fastfetch block, in order."""
    j, seen, last = text.find("OS:"), 0, -1
    while j >= 0 and seen < _FETCH_MAX_CANDIDATES:
        seen += 1
        line_start = text.rfind("\n", 0, j) + 1
        if line_start > last:
            # The line, the two before it (header) and the three after it (Host:/Kernel:).
            head = line_start
            for _ in range(2):
                if head > 0:
                    head = text.rfind("\n", 0, head - 1) + 1
            end = line_start
            for _ in range(4):
                nxt = text.find("\n", end)
                end = len(text) if nxt < 0 else nxt + 1
            lines = text[head:end].split("\n")
            k = text.count("\n", head, line_start)
            found = fetch_header(lines, k)
            if found is not None:
                offset = head + sum(len(ln) + 1 for ln in lines[:found])
                if offset > last:
                    yield offset, "fetch"
                    last = offset
            last = max(last, line_start)
        j = text.find("OS:", j + 3)


_PROMPT_CHARS = re.compile(r"[$#%>❯➜»λ→]")

# Cheap first-character filter so most lines skip the marker regexes entirely.
_MARKER_FIRST = frozenset("#HSGABCPV \tpvc[ADJFMNOTLB0123456789abcdefm/sI=lwk")

# All content markers as one pattern, searched by one finditer in C. The alternatives keep
# `_MARKERS`' order, so the first that matches names the tool, as `_marker_tool()` does line
# by line; the lookahead keeps its first-character filter. Each match starts at a "\n" (a
# literal prefix lets the regex engine jump from newline to newline); line 1 is checked
# apart. Kernel-log markers swallow the whole run of kernel-log lines that follows: none of
# those lines can be a prompt or an earlier marker, so their events would change nothing.
_RUN_MARKERS = frozenset(i for i, (_, tool) in enumerate(_MARKERS) if tool == "dmesg")


def _marker_alternative(i: int, pattern: re.Pattern[str]) -> str:
    body = pattern.pattern.removeprefix("^")
    if i in _RUN_MARKERS:
        # Possessive: nothing follows, so the match is the same, and the engine keeps no
        # backtracking state per line (a greedy `*` held ~350 MB for a million short lines).
        body = f"(?:{body})[^\n]*(?:\n(?:{body})[^\n]*)*+"
    return f"(?P<m{i}>{body})"


_MARKER_ALTS = (
    "(?=["
    + re.escape("".join(sorted(_MARKER_FIRST)))
    + "])(?:"
    + "|".join(_marker_alternative(i, p) for i, (p, _) in enumerate(_MARKERS))
    + ")"
)
_MARKER_HEAD = re.compile("(?m)" + _MARKER_ALTS)
_MARKER_SCAN = re.compile("(?m)\n" + _MARKER_ALTS)
_MARKER_TOOLS = {f"m{i}": tool for i, (_, tool) in enumerate(_MARKERS)}


def _marker_events(text: str) -> Iterator[tuple[int, str]]:
    """(offset of the line, tool) for every line that starts with a content marker, in order."""
    yield from heapq.merge(_line_marker_events(text), _fetch_events(text))


def _line_marker_events(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    head = _MARKER_HEAD.match(text)
    if head:
        yield 0, _MARKER_TOOLS[head.lastgroup or ""]
        pos = head.end()
    for m in _MARKER_SCAN.finditer(text, pos):
        yield m.start() + 1, _MARKER_TOOLS[m.lastgroup or ""]


_MIN_REPEATS = 8


@functools.lru_cache(maxsize=64)
def _repeat_run(line: str) -> re.Pattern[str]:
    """`line` then a newline, at least _MIN_REPEATS times (possessive: no backtracking state)."""
    return re.compile("(?:" + re.escape(line) + "\n){" + str(_MIN_REPEATS) + ",}+")


def _prompt_events(text: str) -> Iterator[tuple[int, str, str, int]]:
    """(offset of the line, tool, command, offset of its output) for every prompt line, in order."""
    end = -1
    search = _PROMPT_CHARS.search
    while (m := search(text, end + 1)) is not None:  # from the line after the last one checked
        start = text.rfind("\n", end + 1, m.start()) + 1 or end + 1
        end = text.find("\n", m.end())
        if end < 0:
            end = len(text)
        line = text[start:end]
        cmd = prompt_command(line)
        if cmd is not None:
            # The same prompt line repeated with nothing in between (a pasted loop, a stuck
            # key): one prompt, whose output starts after the run. Only long runs, so a
            # command typed twice keeps its meaning.
            body = end + 1
            if len(line) <= 200 and text.startswith(line, end + 1):
                run = _repeat_run(line).match(text, end + 1)
                if run is not None:
                    body = run.end()
                    end = body - 1
            yield start, _tool_for_command(cmd), cmd, body


def _events(text: str) -> Iterator[tuple[int, str, str | None, int]]:
    """Section boundaries in order: (offset of the line, tool, command or None for a marker).

    Only lines holding a prompt character or starting with a marker are looked at in Python;
    every other line costs nothing but C regex scanning. Both streams are merged lazily, so
    a paste of a million prompts holds no list of a million events.
    """
    prompts = _prompt_events(text)
    if "cat" in text or "virt" in text:
        prompts = heapq.merge(prompts, _bare_command_events(text))
    markers = iter(_marker_events(text))
    p, m = next(prompts, None), next(markers, None)
    while p is not None or m is not None:
        if p is not None and (m is None or p[0] <= m[0]):
            yield p
            while m is not None and m[0] == p[0]:
                m = next(markers, None)  # a prompt line is never also a marker
            p = next(prompts, None)
        elif m is not None:
            yield m[0], m[1], None, m[0]
            m = next(markers, None)


def iter_split(text: str) -> Iterator[Section]:
    """Cut a normalized paste into sections, one per tool output, lazily."""
    tool, command, start = "other", None, 1
    buf = 0  # offset where the current section's text begins
    line_at, lineno = 0, 1  # line number of offset line_at (counted incrementally, in C)
    for offset, new_tool, cmd, output in _events(text):
        if cmd is None and new_tool == tool:
            continue  # a marker of the tool already running
        lineno += text.count("\n", line_at, offset)
        line_at = offset
        # Close the running section at this line (empty bodies only matter after a prompt).
        if offset > buf or command is not None:
            body = text[buf : offset - 1] if offset > buf else ""
            if (body and not body.isspace()) or command is not None:
                yield Section(tool, command, start, body)
        if cmd is not None:
            nl = text.find("\n", offset)
            tool, command, start = new_tool, cmd, lineno + 1
            buf = nl + 1 if nl >= 0 else len(text) + 1
            if output > buf:  # a run of the same prompt line: its output starts after it
                start += text.count("\n", buf, output)
                buf = output
        else:
            # `uname`/`Linux version` inside dmesg is part of dmesg; a dmesg-looking line
            # inside journalctl output is still the kernel log.
            tool, command, start, buf = new_tool, None, lineno, offset
    end = len(text) + 1
    if end > buf or command is not None:
        body = text[buf : end - 1] if end > buf else ""
        if (body and not body.isspace()) or command is not None:
            yield Section(tool, command, start, body)


def split(text: str) -> list[Section]:
    """Cut a normalized paste into sections, one per tool output."""
    return list(iter_split(text))


# ---------------------------------------------------------------- compound commands

# Commands that print exactly one line: when a prompt ran several of them (`a; b`, `a && b`)
# and the output has as many lines, each line belongs to one command, in order.
_ONE_LINE = re.compile(
    r"""^(?:sudo[ \t]+)?(?:
        systemd-detect-virt(?:[ \t]+-\S+)*
        |(?:/usr/s?bin/)?dmidecode[ \t]+(?:-s|--string)[ \t]+\S+
        |cat[ \t]+/(?:sys|proc)/\S+
        |hostname|whoami|nproc|arch|uname(?:[ \t]+-\w+)*|echo[ \t][^\n]*
        |ds-identify|imvirt|virt-what
    )[ \t]*$""",
    re.VERBOSE,
)
_LOOP = re.compile(r"^[ \t]*(?:for|while|until|if|case)\b")


# The pieces of a command line, in order: a quoted string (to its closing quote, or to the end),
# a separator, or a run of anything else.
_COMMAND_TOKEN = re.compile(r"""'[^']*'?|"[^"]*"?|;|&&|\|\||[^;&|'"]+|[&|]""")


def subcommands(command: str) -> list[str]:
    """`a; b && c || d` -> [a, b, c, d] (separators inside quotes are kept; loops stay whole)."""
    if _LOOP.match(command) or not any(c in command for c in ";&|"):
        return [command.strip()]
    parts, buf = [], []
    for m in _COMMAND_TOKEN.finditer(command):
        token = m.group()
        if token in (";", "&&", "||"):
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(token)
    parts.append("".join(buf).strip())
    return [p for p in parts if p]


def expand_compound(sec: Section) -> list[Section]:
    """A section after `a; b; c` whose commands each print one line -> one section per line.

    Otherwise the section is returned as it is: its first command names its tool, and the
    segment-free sweep (detector.sweep) still reads every line of it.
    """
    if not sec.command or len(sec.text) > 4000 or len(sec.command) > _COMMAND_READ:
        return [sec]
    subs = subcommands(sec.command)
    if len(subs) < 2 or not all(_ONE_LINE.match(s) for s in subs):
        return [sec]
    lines = sec.text.split("\n")
    filled = [i for i, ln in enumerate(lines) if ln.strip() and not _BARE_PROMPT.match(ln)]
    if len(filled) != len(subs):
        return [sec]
    return [
        Section(_tool_for_command(sub), sub, sec.start + i, lines[i]) for sub, i in zip(subs, filled, strict=True)
    ]
