"""`farmhand analyze [PATH|-] [--json] [--max-bytes N]`: judge a hardware dump.

Imports only the detector: no discord.py, pydiscourse, aiohttp or engine, so it answers a
small paste fast. Exit 0 for any verdict; exit 2 with one `error: ...` line for input it
refuses (binary, over the size limit, unreadable).
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.inputs import os_reason, stdin_binary
from detector import DEFAULT_MAX_BYTES, InputRefused, Verdict, analyze, decode, read_limited


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


def render_text(v: Verdict) -> str:
    """A human-readable verdict: what it is, why (evidence lines), what to paste next."""
    what = {
        "bare-metal": "BARE METAL (physical hardware)",
        "virtual": "VIRTUAL MACHINE",
        "container": "CONTAINER",
        "inconclusive": "INCONCLUSIVE (not enough to tell)",
    }[v.verdict]
    details = [
        f"{k}: {val}"
        for k, val in (("hypervisor", v.hypervisor), ("provider", v.provider), ("vendor", v.vendor))
        if val
    ]
    lines = [f"Verdict: {what}" + (f" — {', '.join(details)}" if details else "")]
    if v.verdict != "inconclusive":
        lines.append(f"Confidence: {v.confidence:.0%}")
    zos = {True: "yes (virt-what would print something)", False: "no", None: "can't tell from this paste"}
    lines.append(f"Would Zero OS flag it as virtualized: {zos[v.zos_flags_virtual]}")
    if v.evidence:
        lines.append("")
        lines.append("Evidence:")
        for e in v.evidence:
            lines.append(f"  [{e.source} line {e.line}] {e.text}")
            lines.append(f"      -> {e.points_to} ({e.signal}, weight {e.weight:.2f})")
    for note in v.notes:
        lines.append("")
        lines.append(f"Note: {note}")
    if v.missing:
        lines.append("")
        lines.append("What to paste next:")
        lines.extend(f"  {cmd}" for cmd in v.missing)
    return "\n".join(lines)


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
    verdict = analyze(text)
    if getattr(args, "json", False):
        print(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        print(render_text(verdict))
    return 0
