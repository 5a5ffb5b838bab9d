"""`farmhand analyze [PATH|-] [--json] [--verbose] [--max-bytes SIZE]`: judge a hardware dump.

The text output opens with one plain sentence a farmer understands (what the machine is, and
what Zero OS would make of it), then the lines of the paste that decided it; signal ids,
weights and every other piece of evidence only with `--verbose` (or `--json`).

Imports only the detector: no discord.py, pydiscourse, aiohttp or engine, so it answers a
small paste fast. Exit 0 for any verdict; exit 2 with one `error: ...` line for input it
refuses (binary, over the size limit, unreadable).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from bot.inputs import os_reason, stdin_binary
from detector import DEFAULT_MAX_BYTES, InputRefused, Verdict, analyze, decode, read_limited
from detector.model import Evidence


def _read(path: str, max_bytes: int) -> str:
    if path == "-":
        data = read_limited(stdin_binary(PASTE_HINT), max_bytes)
    else:
        try:
            with open(path, "rb") as fh:
                data = read_limited(fh, max_bytes)
        except OSError as exc:
            raise InputRefused(f"cannot read {path}: {os_reason(exc)}") from None
    return decode(data, max_bytes)


_NAMES = {
    "kvm": "KVM", "qemu": "QEMU", "vmware": "VMware", "hyperv": "Hyper-V", "xen": "Xen",
    "virtualbox": "VirtualBox", "parallels": "Parallels", "bhyve": "bhyve", "openvz": "OpenVZ",
    "lxc": "LXC", "docker": "Docker", "podman": "Podman", "wsl": "WSL", "wsl1": "WSL 1",
    "aws": "AWS", "gcp": "Google Cloud", "azure": "Azure", "hetzner": "Hetzner", "ovh": "OVHcloud",
    "digitalocean": "DigitalOcean", "linode": "Linode", "vultr": "Vultr", "contabo": "Contabo",
    "oracle": "Oracle Cloud", "openstack": "OpenStack", "proxmox": "Proxmox", "dell": "Dell",
    "hpe": "HPE", "lenovo": "Lenovo", "supermicro": "Supermicro", "raspberrypi": "Raspberry Pi",
    "gigabyte": "Gigabyte", "apple": "Apple", "microsoft": "Microsoft", "intel": "Intel",
    "asus": "ASUS", "asrock": "ASRock",
}  # fmt: skip

_WHERE = {"bare-metal": "real hardware", "virtual": "a virtual machine", "container": "a container"}
_IP_ADDRESS_LINE = re.compile(r"^\s*link/\w+\s")
_IP_INTERFACE_LINE = re.compile(r"^\s*\d+:\s+[\w.@-]{1,40}:\s+<[A-Z0-9_,-]*>")


def _name(value: str) -> str:
    return _NAMES.get(value.lower(), value.replace("-", " ").replace("_", " ").title())


def _product(v: Verdict) -> str | None:
    """The model line a dmidecode paste names (`Product Name: PowerEdge R720`), if it decided."""
    for e in v.evidence:
        m = re.match(r"^\s*Product Name:\s*(.+?)\s*$", e.text)
        if m and e.points_to.startswith("bare-metal") and "[" not in m[1]:
            return m[1]
    return None


def headline(v: Verdict) -> str:
    """One plain sentence (two at most) a farmer understands: what the machine is, what Zero OS would do."""
    names = [_name(x) for x in (v.hypervisor, v.provider) if x]
    if v.verdict == "virtual":
        what = f"This is a virtual machine ({', '.join(names)})." if names else "This is a virtual machine."
        zos = "would" if v.zos_flags_virtual else "would most likely"
        return f"{what} Zero OS {zos} mark it virtualized: it would earn no farming rewards."
    if v.verdict == "bare-metal":
        maker = " ".join(x for x in (_name(v.vendor) if v.vendor else None, _product(v)) if x)
        if maker.lower().startswith((v.vendor or "\0").lower() + " " + (v.vendor or "\0").lower()):
            maker = _product(v) or maker  # "Dell Dell PowerEdge": the product names its maker
        what = f"This looks like real hardware ({maker})." if maker else "This looks like real hardware."
        return f"{what} Zero OS would not see a hypervisor here, so it would not be marked virtualized."
    if v.verdict == "container":
        what = f"This is a container ({', '.join(names)})." if names else "This is a container."
        return f"{what} Zero OS does not run in a container: it boots on the machine itself."
    return "This paste does not show whether the machine is real hardware or virtual."


def _quoted(e: Evidence, lines: list[str]) -> str:
    """The line to quote for a piece of evidence: for `ip link`, the interface's own line
    (`4: tap100i0: ...`) rather than its `link/ether` MAC line, which says nothing to a reader."""
    if _IP_ADDRESS_LINE.match(e.text) and 2 <= e.line <= len(lines) + 1:
        above = lines[e.line - 2]
        if m := _IP_INTERFACE_LINE.match(above):
            # `4: tap100i0: <FLAGS>`: index, interface name and flags only, so nothing to mask;
            # the rest (mtu, qdisc, ...) is noise here.
            return m[0].strip()
    return e.text


def _deciding(v: Verdict) -> list[Evidence]:
    """The evidence that points the way the verdict went, strongest first, one per line of the paste."""
    side = v.verdict
    picked: dict[int, Evidence] = {}
    for e in sorted(v.evidence, key=lambda e: -e.weight):
        if e.weight > 0 and e.points_to.split(":")[0] == side and e.line not in picked:
            picked[e.line] = e
    return list(picked.values())[:6]


def _pointer(e: Evidence) -> str:
    if e.signal.startswith("hosts-vms"):
        return "this machine runs virtual machines itself: a host, not a guest"
    kind, _, name = e.points_to.partition(":")
    words = {"bare-metal": "real hardware", "virtual": "virtual", "container": "container"}.get(kind, kind)
    return f"{words} ({_name(name)})" if name else words


def render_text(v: Verdict, paste: str = "", *, verbose: bool = False) -> str:
    """The verdict for a person: one plain sentence, then the lines that decided it, then what to paste next.

    With `verbose`, every piece of evidence with its signal id and weight, and the confidence.
    """
    lines = paste.splitlines()
    out = [headline(v)]
    if verbose:
        details = [
            f"{k}: {val}"
            for k, val in (("hypervisor", v.hypervisor), ("provider", v.provider), ("vendor", v.vendor))
            if val
        ]
        out.append("")
        out.append(f"Verdict: {v.verdict}" + (f" — {', '.join(details)}" if details else ""))
        if v.verdict != "inconclusive":
            out.append(f"Confidence: {v.confidence:.0%}")
        zos = {True: "yes (virt-what would print something)", False: "no", None: "can't tell from this paste"}
        out.append(f"Would Zero OS flag it as virtualized: {zos[v.zos_flags_virtual]}")
        if v.evidence:
            out += ["", "Evidence:"]
            for e in v.evidence:
                out.append(f"  [{e.source} line {e.line}] {_quoted(e, lines)}")
                out.append(f"      -> {e.points_to} ({e.signal}, weight {e.weight:.2f})")
    else:
        deciding = _deciding(v)
        if deciding:
            sure = f" ({v.confidence:.0%} sure)" if v.verdict != "inconclusive" else ""
            out += ["", f"Why{sure}:"]
            for e in deciding:
                out.append(f"  {e.source} line {e.line}: {_quoted(e, lines)}")
                out.append(f"      -> {_pointer(e)}")
    for note in v.notes:
        out += ["", f"Note: {note}"]
    if v.missing:
        out += ["", "What to paste next:"]
        out.extend(f"  {cmd}" for cmd in v.missing)
    return "\n".join(out)


SPINNER_CHARS = 1_000_000  # a paste this long takes about a second or more to read

PASTE_HINT = (
    "Paste the output of dmidecode, lscpu, systemd-detect-virt, ... "
    "then press Ctrl-D on a new line (Ctrl-C to cancel)."
)


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand analyze`."""
    max_bytes = args.max_bytes if getattr(args, "max_bytes", None) else DEFAULT_MAX_BYTES
    try:
        text = _read(getattr(args, "path", "-") or "-", max_bytes)
    except InputRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bot.inputs import spinner

    with spinner("reading the paste", when=len(text) > SPINNER_CHARS):
        verdict = analyze(text)
    if getattr(args, "json", False):
        print(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print(render_text(verdict, text, verbose=getattr(args, "verbose", False)))
    return 0
