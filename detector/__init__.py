"""Judge a pasted hardware dump: bare metal, virtual machine or container — with evidence.

Pure library: text in, `Verdict` out. No network, no disk (except reading its own
`signatures.yaml`), no platform code. Pipeline: `segment` (clean and split the paste per
tool) -> `parsers` (one total parser per tool: text -> facts) -> `rules` (facts and raw
lines -> evidence, via `signatures.yaml`) -> `verdict` (fixed precedence).
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

from detector.model import Evidence, InputRefused, Verdict
from detector.redact import redact

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Evidence",
    "InputRefused",
    "Verdict",
    "analyze",
    "decode",
    "looks_like_dump",
    "missing_commands",
    "read_limited",
    "redact",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: int = 10 * 1024 * 1024

# Tools whose raw lines are scanned against line signatures.
_LINE_TOOLS = frozenset(("dmesg", "lspci", "lsusb", "lsmod", "other"))
_SOURCE_NAMES = {
    "systemd_detect_virt": "systemd-detect-virt",
    "virt_what": "virt-what",
    "cpuid": "virt-what-cpuid-helper",
    "dmi_sysfs": "sysfs-dmi",
    "proc_status": "proc-status",
    "fetch": "neofetch",
}
_COMMANDS = {
    "dmidecode": "sudo dmidecode -t system",
    "lscpu": "lscpu",
    "systemd_detect_virt": "systemd-detect-virt",
    "virt_what": "sudo virt-what",
    "lspci": "lspci -nn",
    "dmesg": "sudo dmesg | grep -i -e hypervisor -e DMI:",
    "cgroup": "cat /proc/1/cgroup",
}
_NEEDS_ROOT = re.compile(r"/dev/mem: Permission denied|Permission denied[^\n]{0,40}/sys/firmware/dmi|must be run as root|need(?:s)? to be root|Operation not permitted[^\n]{0,40}/dev/mem", re.IGNORECASE)
_GREP_HYPERVISOR = re.compile(r"grep\b[^\n|]*hypervisor", re.IGNORECASE)
_BINARY_MAGIC = (b"\x7fELF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"%PDF", b"\xff\xd8\xff", b"GIF8", b"MZ")


def _limit_text(max_bytes: int) -> str:
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes / (1024 * 1024):g} MB"
    return f"{max_bytes} bytes"


def read_limited(stream: BinaryIO, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read at most max_bytes+1 bytes; raise InputRefused when there is more (the rest is never read)."""
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise InputRefused(f"input is larger than the {_limit_text(max_bytes)} limit")
    return data


def _utf16_guess(head: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text leaves every other byte zero."""
    if len(head) < 8:
        return None
    even = head[0::2].count(0) / max(len(head[0::2]), 1)
    odd = head[1::2].count(0) / max(len(head[1::2]), 1)
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | frozenset(b"\t\n\r") | frozenset(range(0x80, 0x100))


def _nul_separated_text(head: bytes) -> bool:
    """Text whose entries NULs separate (environ, cmdline): printable between single NULs."""
    parts = head.split(b"\x00")
    if len(parts) < 3 or sum(1 for p in parts[:-1] if not p) > len(parts) // 10:
        return False  # runs of NULs: a binary layout, not separators
    body = b"".join(parts)
    return bool(body) and sum(b in _TEXT_BYTES for b in body) / len(body) > 0.97


def decode(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Bytes of a paste or attachment -> text (UTF-8, UTF-16 with BOM or by shape, else latin-1).

    Raises InputRefused (one-line message) for empty input (nothing but whitespace), binary
    data or data over max_bytes.
    """
    if len(data) > max_bytes:
        raise InputRefused(f"input is larger than the {_limit_text(max_bytes)} limit")
    if not data.strip(b" \t\r\n\x0b\x0c\x00") or data in (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"):
        # A zero-byte file (a failed redirect, an upload cut off) says nothing about a machine:
        # "empty input", not an "inconclusive" verdict that reads as if we looked and found nothing.
        raise InputRefused("empty input (nothing to analyse)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputRefused("binary file (NUL bytes / not text)") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    guess = _utf16_guess(data[:4096])
    if guess:
        try:
            return data.decode(guess)
        except UnicodeDecodeError:
            pass
    if data.startswith(_BINARY_MAGIC):
        raise InputRefused("binary file (NUL bytes / not text)")
    if b"\x00" in data[:65536]:
        if not _nul_separated_text(data[:65536]):
            raise InputRefused("binary file (NUL bytes / not text)")
        # `/proc/1/environ` or `/proc/*/cmdline` saved as a file: NULs separate the entries.
        data = data.replace(b"\x00", b"\n")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    head = text[:8192]
    if head:
        controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\n\r\t\x1b\x0c")
        if controls / len(head) > 0.1:
            raise InputRefused("binary file (NUL bytes / not text)")
    if "\x00" in text:
        # /proc/1/environ pasted raw: NULs separate variables.
        text = text.replace("\x00", "\n")
    return text


_DUMP_STRONG = re.compile(
    r"(?im)^[ \t]*(?:"
    r"Handle 0x[0-9a-f]{4}, DMI type|#[ \t]*dmidecode[ \t]+\d|SMBIOS \d[\d.]* present"
    r"|Hypervisor vendor:[ \t]*\S|Virtualization type:[ \t]*\S|Virtualization:[ \t]*(?:VT-x|AMD-V|kvm|vm|qemu|vmware|none|microsoft|oracle|xen|docker|lxc|wsl)\b"
    r"|\[[ \t]*\d+\.\d{6}\][ \t]"
    r"|(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7][ \t]+(?:Host bridge|VGA|Ethernet|PCI bridge|ISA bridge|SATA|Network|Non-Volatile|USB controller|Audio|IDE|SCSI|RAID|System peripheral|Unclassified|Communication|Serial|SMBus|Signal|Bridge|Memory controller|Display|3D)"
    r"|Bus[ \t]+\d{3}[ \t]+Device[ \t]+\d{3}:[ \t]+ID[ \t]+[0-9a-f]{4}:[0-9a-f]{4}"
    r"|\d+:[ \t]+[\w@.-]+:[ \t]+<[A-Z,_]+>"
    r"|\d+:[\w,=]*:/\S*$"
    r"|flags[ \t]*:[ \t]*fpu\b|processor[ \t]*:[ \t]*\d+[ \t]*$|vendor_id[ \t]*:[ \t]*\S"
    r"|Static hostname:|/sys/class/dmi/id/\w+:|container=\w+"
    r"|(?:KVMKVMKVM|VMwareVMware|XenVMMXenVMM|Microsoft Hv)[ \t]*$"
    r")"
)
_DUMP_KV = re.compile(
    r"(?im)^[ \t]*(?:Manufacturer|Product Name|Vendor|Version|Family|Serial Number|UUID|Architecture|"
    r"CPU\(s\)|Model name|CPU op-mode\(s\)|Byte Order|Thread\(s\) per core|Socket\(s\)|BIOS Vendor ID|"
    r"Chassis|Kernel|Operating System|Hardware Vendor|Hardware Model|Board Name|sys_vendor|product_name)"
    r"[ \t]*:[ \t]*\S[^\n]*$"
)
_SDV_PROMPT = re.compile(
    r"(?im)^[^\n]{0,80}?(?:[$#%>][ \t]*|^)(?:sudo[ \t]+)?(?:systemd-detect-virt|virt-what|dmidecode|lscpu|lspci|"
    r"lsusb|hostnamectl|dmesg|uname|cat[ \t]+/proc/|lshw|inxi|neofetch|fastfetch|ip[ \t]+(?:a|link)|ifconfig|"
    r"lsblk|smartctl|hdparm)\b[^\n]*\n[ \t]*\S"
)


def looks_like_dump(text: str) -> bool:
    """Does this post carry tool output (not just words about tools)? Cheap: a few regex searches."""
    try:
        head = text[:200_000]
        if "\n" not in head.strip() and len(head) > 120:
            from detector.segment import unflatten

            head = unflatten(head)
        if _DUMP_STRONG.search(head):
            return True
        if _SDV_PROMPT.search(head):
            return True
        return len(_DUMP_KV.findall(head)) >= 2
    except Exception:  # a predicate must never take the bot down
        log.exception("looks_like_dump failed")
        return False


def missing_commands(
    tools_seen: set[str], verdict: str, flags: dict[str, bool] | None = None
) -> tuple[str, ...]:
    """What to paste next, given which tools the paste already had and how weak the verdict is."""
    flags = flags or {}
    out: list[str] = []
    if flags.get("windows"):
        out.append("boot a Linux live USB on the machine, then paste: sudo dmidecode -t system; lscpu")
    if flags.get("dmi_needs_root"):
        out.append("dmidecode needs root: run it with sudo (sudo dmidecode -t system)")
    if flags.get("dmi_unavailable") and "cgroup" not in tools_seen:
        out.append("cat /proc/1/cgroup")
    order = ("dmidecode", "lscpu", "systemd_detect_virt", "virt_what", "lspci", "dmesg")
    for tool in order:
        if tool not in tools_seen and not (tool == "dmidecode" and flags.get("dmi_needs_root")):
            out.append(_COMMANDS[tool])
    if verdict == "inconclusive" and not out:
        out.append("sudo dmidecode -t system -t bios -t baseboard")
    return tuple(out[:4])


def analyze(text: str) -> Verdict:
    """Judge a paste. Never raises: on any internal error the verdict is inconclusive."""
    try:
        return _analyze(text if isinstance(text, str) else str(text))
    except Exception as exc:  # the last guard: a bug must not become a traceback for a user
        log.exception("detector failed")
        return Verdict(
            verdict="inconclusive",
            missing=("sudo dmidecode -t system", "lscpu", "systemd-detect-virt"),
            notes=(f"internal error while reading the paste ({type(exc).__name__}); please report it",),
        )


def _analyze(text: str) -> Verdict:
    from detector import layout, rules, segment, shapes, sweep, verdict
    from detector.parsers import Fact, registry, safe_parse

    # Who logged each journald/syslog line, and on which host: the prefix goes in normalize().
    unit_lines, host_lines = layout.journal_units(text)
    units = [Fact("journal.unit", unit, line, unit) for line, unit in unit_lines]
    units += [Fact("journal.host", host, line, host) for line, host in host_lines]
    if (service := layout.compose_service(text)) is not None:
        units.append(Fact("compose.service", service[1], service[0], service[1]))
    norm = segment.normalize(text)
    sections = segment.iter_split(norm)  # lazily: a paste of a million prompts is a million sections
    parsers = registry()
    facts = []
    source_of: dict[int, str] = {}
    hits: list[rules.Hit] = []
    spent: dict[str, int] = {}  # line-signature hits so far in this paste (see rules.scan_lines)
    tools_seen: set[str] = set()
    flags: dict[str, bool] = {}
    owned_spans: list[tuple[int, int, str]] = []  # (first line, last line, tool) of owning tools
    owning = sweep.owning_tools()
    for sec in (part for raw in sections for part in segment.expand_compound(raw)):
        if sec.tool in owning:
            owned_spans.append((sec.start, sec.start + sec.text.count("\n"), sec.tool))
        source = _SOURCE_NAMES.get(sec.tool, sec.tool)
        if sec.tool == "other" and sec.command:
            source = sec.command.split()[-1][:60] if sec.command.split() else "other"
        fn = parsers.get(sec.tool)
        if sec.tool == "dmidecode" and sec.command and "/sys/" in sec.command:
            fn = parsers["dmi_sysfs"]
        parsed = safe_parse(fn, sec.text, sec.start, sec.command) if fn else None
        new_facts = list(parsed.facts) if parsed else []
        if (
            sec.tool == "dmesg"
            and sec.command
            and _GREP_HYPERVISOR.search(sec.command)
            and segment.is_blank_output(sec.text)
        ):
            # The grep for "hypervisor" found nothing: every KVM/Hyper-V/VMware/Xen guest logs it.
            new_facts.append(Fact("dmesg.hypervisor_empty", "", sec.start, sec.command))
        for f in new_facts:
            source_of[len(facts)] = source
            facts.append(f)
        if sec.tool in _LINE_TOOLS:
            hits += rules.scan_lines(sec.tool, sec.text, sec.start, source, sec.command, spent)
        if new_facts or sec.tool != "other":
            tools_seen.add(sec.tool)
    # The segment-free sweep: every line, whatever section it landed in (detector/sweep.py).
    swept = sweep.merge(facts, sweep.owned_facts(norm), owned_spans)
    # The kernel's DMI summary line and the shapes that name themselves (detector/shapes.py)
    # belong to no tool's section: read them wherever they landed.
    taken = {f.line for f in facts}
    swept += [f for f in rules.dmi_line_facts(norm, 1) + shapes.facts(norm) if f.line not in taken]
    for f in swept:
        source_of[len(facts)] = "paste"
        facts.append(f)
    for f in units:
        source_of[len(facts)] = "journal"
        facts.append(f)
    hits = rules.match_facts(facts, source_of) + hits
    # A cut-off flags line proves nothing by what it lacks.
    partial = {f.line for f in facts if f.key == "cpu.flags_partial"}
    hits = [h for h in hits if not (h.sig.id == "cpu-flags-no-hypervisor" and h.line in partial)]
    hits += rules.scan_lines("*", norm, 1, "paste", None)
    hits = rules.name_platforms(rules.dedupe(hits))

    fact_keys = {f.key for f in facts}
    flags["dmi_unavailable"] = "dmi.unavailable" in fact_keys and not any(
        k.startswith(("system.", "bios.")) for k in fact_keys
    )
    # `/dev/mem: Permission denied` (or "must be run as root"): the paste only lacks sudo.
    flags["dmi_needs_root"] = flags["dmi_unavailable"] and bool(_NEEDS_ROOT.search(norm[:200_000]))
    flags["windows"] = "windows" in tools_seen
    windows_only = flags["windows"] and not (tools_seen - {"windows", "other"})
    if "cpu.flags" in fact_keys or "cpu.hypervisor_vendor" in fact_keys:
        tools_seen.add("lscpu")
    if any(k.startswith("system.") for k in fact_keys):
        tools_seen.add("dmidecode")
    if "virt_what.output" in fact_keys or "virt_what.empty" in fact_keys:
        tools_seen.add("virt_what")
    if "virt.detected" in fact_keys:
        tools_seen.add("systemd_detect_virt")

    context = {"host_capability": any(h.sig.points_to == "host-capability" for h in hits)}
    from detector.redact import NOT_HOSTS, host_names

    # the journald prefixes' host names went with the prefixes: mask them as well
    journal_hosts = tuple(h for _, h in host_lines if len(h) >= 3 and h.lower() not in NOT_HOSTS)
    v = verdict.decide(hits, context, tuple(dict.fromkeys(host_names(norm) + journal_hosts)))

    zos = _zos_flags(v.verdict, v.confidence, hits, fact_keys)
    if windows_only and "virt_what.output" not in fact_keys:
        zos = None  # virt-what never runs on Windows: nothing here says what Zero OS would see
    passthrough_only = verdict.PASSTHROUGH_NOTE in v.notes
    missing: tuple[str, ...] = ()
    if passthrough_only:
        # A passed-through disk/GPU/NIC looks the same inside a VM: ask for what tells them apart.
        missing = ("sudo dmidecode -t system", "systemd-detect-virt", "lscpu")
    elif v.verdict == "inconclusive" or v.confidence < 0.75 or flags["windows"]:
        missing = missing_commands(tools_seen, v.verdict, flags)
    elif zos is None:
        missing = ("sudo virt-what",)
    from dataclasses import replace

    return replace(v, zos_flags_virtual=zos, missing=missing)


def _zos_flags(kind: str, confidence: float, hits: list, fact_keys: set[str]) -> bool | None:
    """Would Zero OS's boot check (`virt-what` prints anything) flag this machine?"""
    if "virt_what.output" in fact_keys:
        return True
    if "virt_what.empty" in fact_keys:
        return False
    if any(h.sig.virt_what and h.sig.weight >= 0.6 for h in hits):
        return True
    if kind in ("virtual", "container") and confidence >= 0.6:
        return True
    if kind == "bare-metal":
        return False
    return None
