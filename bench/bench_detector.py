"""Detector benchmark: one command, four figures.

    .venv/bin/python bench/bench_detector.py [--mb 10] [--corpus /work/shared/corpus/virt-what]

1. A ~10 MB paste (fixture dumps and a long kernel log, repeated) through `analyze()`,
   against ONE compiled-regex pass over the same text: `re.finditer` of a line pattern,
   consuming every match (what any line-based reader must at least do). Target <= 3x.
2. Peak memory of that analysis (tracemalloc, plus the text itself). Target < 300 MB.
3. `farmhand analyze` on a small paste, wall time of the whole subprocess. Target well under 0.5 s.
4. Accuracy on the virt-what development corpus, when it is present.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detector import analyze  # noqa: E402

LINE = re.compile(r"(?m)^.*$")
# What a naive grep-style detector runs: its keywords, case-insensitive, in one pass.
KEYWORDS = re.compile(
    r"hypervisor|paravirt|DMI:|kvm|hyper-v|vmware|virtualbox|xen|qemu|bochs|virtio|docker|lxc|"
    r"amazon|google|microsoft|openstack|hetzner|digitalocean|parallels|bhyve|innotek",
    re.IGNORECASE,
)


def big_paste(mb: float) -> str:
    """Realistic filler: every fixture dump plus a chatty kernel log, repeated to size."""
    parts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests/fixtures/dumps").rglob("*.txt"))]
    dmesg = "".join(
        f"[{i / 1000:12.6f}] usb 1-{i % 9}: new high-speed USB device number {i % 127} using xhci_hcd\n"
        f"[{i / 1000:12.6f}] EXT4-fs (nvme0n1p{i % 4}): mounted filesystem with ordered data mode\n"
        for i in range(2000)
    )
    unit = "$ sudo dmesg\n" + dmesg + "\n".join(parts)
    reps = max(1, int(mb * 1024 * 1024 / len(unit)) + 1)
    return (unit * reps)[: int(mb * 1024 * 1024)]


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--corpus", default="/work/shared/corpus/virt-what")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    text = big_paste(args.mb)
    analyze("warm up: Hypervisor vendor: KVM\n")  # load signatures once
    baseline = best_of(lambda: sum(1 for _ in LINE.finditer(text)))
    keyword_pass = best_of(lambda: sum(1 for _ in KEYWORDS.finditer(text)))
    detector = best_of(lambda: analyze(text))
    tracemalloc.start()
    analyze(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    small = ROOT / "tests/fixtures/pastes/prompts-mixed.txt"
    farmhand = ROOT / ".venv/bin/farmhand"
    cmd = [str(farmhand)] if farmhand.exists() else [sys.executable, "-m", "bot.cli"]
    walls = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([*cmd, "analyze", str(small), "--json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - t)

    figures = {
        "paste_mb": round(len(text) / 1048576, 2),
        "baseline_regex_pass_s": round(baseline, 3),
        "analyze_s": round(detector, 3),
        "ratio": round(detector / baseline, 2),
        "keyword_regex_pass_s": round(keyword_pass, 3),
        "ratio_vs_keyword_pass": round(detector / keyword_pass, 2),
        "peak_mb_tracemalloc": round(peak / 1048576, 1),
        "text_mb": round(sys.getsizeof(text) / 1048576, 1),
        "cli_small_paste_median_s": round(statistics.median(walls), 3),
    }
    corpus = Path(args.corpus) / "MANIFEST.jsonl"
    if corpus.exists():
        from bot.commands.eval_dumps import evaluate

        f = evaluate(corpus)
        figures["corpus_accuracy"] = round(f["accuracy"], 3)
        figures["corpus_bm_virtual_errors"] = f["bare_metal_virtual_errors"]
        figures["corpus_zos_agree"] = f"{f['zos_agree']}/{f['zos_checked']}"
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:28s} {v}")
        print(
            f"targets: ratio <= 3 ({'ok' if figures['ratio'] <= 3 else 'MISSED'}), "
            f"peak < 300 MB ({'ok' if figures['peak_mb_tracemalloc'] < 300 else 'MISSED'}), "
            f"cli < 0.5 s ({'ok' if figures['cli_small_paste_median_s'] < 0.5 else 'MISSED'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
