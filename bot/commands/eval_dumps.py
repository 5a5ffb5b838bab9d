"""`farmhand eval dumps MANIFEST.jsonl [--json]`: accuracy of the detector on labelled dumps.

Each manifest line: `{"file": ..., "truth": "bare-metal"|"virtual"|"container", ...}`, and
optionally `expected_virt_what_output` (a list; non-empty means Zero OS flags the node).
Prints accuracy, the confusion between classes, bare-metal <-> virtual errors, the
inconclusive rate, the misses, and how often `zos_flags_virtual` agrees with virt-what.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bot.inputs import BadLines, InputError, jsonl_objects, read_bytes, read_text, with_progress
from detector import InputRefused, analyze, decode

CLASSES = ("bare-metal", "virtual", "container", "inconclusive")


TRUTHS = CLASSES  # "inconclusive": a paste that cannot be judged, on purpose



# Names a manifest may use for one id of the vocabulary (DESIGN.md; as detector/named.yaml maps
# them): LXD and Incus containers are `lxc`, `nspawn` is `systemd-nspawn`, Moby is `docker`.
_SYNONYMS = {"lxd": "lxc", "incus": "lxc", "nspawn": "systemdnspawn", "moby": "docker", "virtuozzo": "openvz"}


def _canon(name: str) -> str:
    """A platform name as the vocabulary spells it: "Raspberry Pi" and "raspberrypi", "Dell" and
    "dell" are one platform (manifests are written by people)."""
    key = "".join(ch for ch in str(name).lower() if ch.isalnum())
    return _SYNONYMS.get(key, key)

def read_manifest(manifest: str, bad: BadLines) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """The manifest's directory (file paths are relative to it) and its good lines.

    Bad lines (not JSON, no `file`, an unknown `truth`) go to `bad`; a missing, directory,
    empty or all-bad manifest is an InputError.
    """
    text = read_text(manifest)
    source = "stdin" if manifest == "-" else manifest
    base = Path.cwd() if manifest == "-" else Path(manifest).parent
    items = []
    for n, item in jsonl_objects(text, source, bad):
        if not isinstance(item.get("file"), str) or not item["file"].strip():
            bad.add(source, n, 'no "file" (the dump\'s path, relative to the manifest)')
        elif item.get("truth") not in TRUTHS:
            near = difflib.get_close_matches(str(item.get("truth")), TRUTHS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            bad.add(source, n, f"truth must be one of {', '.join(TRUTHS)}, not {item.get('truth')!r}{hint}")
        else:
            items.append((n, item))
    if not items:
        why = "no labelled dumps" + (f" ({len(bad)} bad lines)" if bad else "")
        raise InputError(f"{source}: {why}")
    return base, items


def evaluate(manifest: str | Path, bad: BadLines | None = None, files: str | None = None) -> dict[str, Any]:
    """Run the detector over every file in a manifest (or those whose path matches the glob
    `files`: one part of a set split by file name) and return the figures."""
    bad = BadLines() if bad is None else bad
    base, items = read_manifest(str(manifest), bad)
    if files:
        items = [(n, item) for n, item in items if fnmatch.fnmatchcase(item["file"], files)]
        if not items:
            raise InputError(f"{manifest}: no dump's file matches {files!r}")
    source = "stdin" if str(manifest) == "-" else str(manifest)
    rows = []
    for n, item in with_progress(items, len(items), "evaluating dumps"):
        path = base / item["file"]
        try:
            text = decode(read_bytes(str(path)))
        except (InputError, InputRefused) as exc:
            bad.add(source, n, f"{item['file']}: {str(exc).removeprefix(str(path) + ': ')}")
            continue
        v = analyze(text)
        expected_vw = item.get("expected_virt_what_output")
        accept = item.get("accept") or [item["truth"]]
        # The platform the paste itself names (hypervisor, cloud or maker), when the
        # manifest says it does: `names_platform` with `hypervisor`/`provider`/`vendor`.
        named = [item.get(k) for k in ("hypervisor", "provider", "vendor") if item.get(k)]
        names_platform = bool(item.get("names_platform", bool(named) and "names_platform" not in item))
        rows.append(
            {
                "file": item["file"],
                "truth": item["truth"],
                "got": v.verdict,
                "hypervisor": v.hypervisor,
                "provider": v.provider,
                "vendor": v.vendor,
                "confidence": round(v.confidence, 2),
                "zos": v.zos_flags_virtual,
                "zos_expected": (len(expected_vw) > 0) if isinstance(expected_vw, list) else None,
                "accepted": v.verdict in accept,
                "platform_expected": named if names_platform and named else None,
                "platform_named": bool(named)
                and names_platform
                and bool({_canon(x) for x in named} & {_canon(x) for x in (v.hypervisor, v.provider, v.vendor) if x}),
            }
        )
    total = len(rows)
    right = sum(r["accepted"] for r in rows)
    strict = sum(r["truth"] == r["got"] for r in rows)
    naming = [r for r in rows if r["platform_expected"]]
    confusion = Counter((r["truth"], r["got"]) for r in rows)
    bm_virtual = [r for r in rows if {r["truth"], r["got"]} == {"bare-metal", "virtual"}]
    zos_rows = [r for r in rows if r["zos_expected"] is not None]
    zos_agree = sum(r["zos"] == r["zos_expected"] for r in zos_rows)
    return {
        "total": total,
        "correct": right,
        "accuracy": right / total if total else 0.0,
        "strict_correct": strict,
        "inconclusive_accepted": sum(r["got"] == "inconclusive" and r["accepted"] for r in rows),
        "platform_checked": len(naming),
        "platform_named": sum(r["platform_named"] for r in naming),
        "platform_misses": [r for r in naming if not r["platform_named"]],
        "inconclusive_rate": sum(r["got"] == "inconclusive" for r in rows) / total if total else 0.0,
        "bare_metal_virtual_errors": len(bm_virtual),
        "confusion": {f"{t}->{g}": c for (t, g), c in sorted(confusion.items())},
        "zos_checked": len(zos_rows),
        "zos_agree": zos_agree,
        "zos_null": sum(r["zos"] is None for r in zos_rows),
        "misses": [r for r in rows if not r["accepted"]],
        "zos_misses": [r for r in zos_rows if r["zos"] != r["zos_expected"]],
        "bad_lines": list(bad.lines),
    }


def main(args: argparse.Namespace) -> int:
    """Entry point of `farmhand eval dumps`."""
    bad = BadLines()
    try:
        figures = evaluate(args.path, bad, getattr(args, "files", None))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        bad.print()
        return 2
    if not figures["total"]:
        bad.print()
        print(f"error: {args.path}: none of the dumps could be read", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(figures, indent=2))
        bad.print()
        return 1 if bad else 0
    f = figures
    print(f"dumps: {f['total']}  correct: {f['correct']}  accuracy: {f['accuracy']:.1%}")
    print(
        f"inconclusive: {f['inconclusive_rate']:.1%}  bare-metal<->virtual errors: {f['bare_metal_virtual_errors']}"
    )
    print(
        f"right = a verdict the manifest accepts ({f['inconclusive_accepted']} accepted inconclusive);"
        f" exactly the truth: {f['strict_correct']}"
    )
    if f["platform_checked"]:
        print(f"platform named: {f['platform_named']}/{f['platform_checked']} of the pastes that name it")
    print("confusion (truth -> verdict):")
    for pair, count in f["confusion"].items():
        print(f"  {pair}: {count}")
    if f["zos_checked"]:
        print(
            f"zos_flags_virtual agrees with virt-what output: {f['zos_agree']}/{f['zos_checked']}"
            f" ({f['zos_null']} undecided)"
        )
    for r in f["misses"]:
        print(f"  MISS {r['file']}: truth {r['truth']}, got {r['got']} ({r['confidence']})")
    for r in f["platform_misses"]:
        print(
            f"  NAME {r['file']}: expected one of {r['platform_expected']},"
            f" got {r['hypervisor'] or r['provider'] or r.get('vendor') or 'none'}"
        )
    for r in f["zos_misses"]:
        print(f"  ZOS  {r['file']}: expected {r['zos_expected']}, got {r['zos']}")
    bad.print()
    return 1 if bad else 0
