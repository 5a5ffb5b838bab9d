"""`farmhand analyze` and `farmhand eval dumps`: exit codes, one-line errors, output shapes, fast imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_analyze_json(capsys, tmp_path):
    p = tmp_path / "dump.txt"
    p.write_text("$ lscpu\nHypervisor vendor: VMware\nVirtualization type: full\n", encoding="utf-8")
    assert main(["analyze", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "virtual" and out["hypervisor"] == "vmware"
    assert out["zos_flags_virtual"] is True


def test_analyze_text_says_what_to_paste_next(capsys, tmp_path):
    p = tmp_path / "dump.txt"
    p.write_text("hello, is this bare metal?\n", encoding="utf-8")
    assert main(["analyze", str(p)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("This paste does not show whether the machine is real hardware or virtual.\n")
    assert "What to paste next:" in out and "dmidecode" in out


def test_analyze_text_lists_evidence(capsys):
    assert main(["analyze", str(FIXTURES / "pastes" / "tabs-to-spaces.txt")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("This looks like real hardware (Dell PowerEdge")
    assert "\nWhy (" in out and "Product Name: PowerEdge" in out


def test_analyze_binary_is_refused(capsys, tmp_path):
    p = tmp_path / "blob.bin"
    p.write_bytes(b"\x7fELF" + bytes(range(256)) * 8)
    assert main(["analyze", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_analyze_over_limit_is_refused(capsys, tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"a" * 5000)
    assert main(["analyze", str(p), "--max-bytes", "1000"]) == 2
    err = capsys.readouterr().err
    assert "larger than" in err and err.count("\n") == 1


def test_analyze_missing_file(capsys, tmp_path):
    assert main(["analyze", str(tmp_path / "nope.txt")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")


def test_analyze_stdin_in_subprocess_imports_no_platform_code():
    code = (
        "import sys, io; from bot.cli import main;"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'Hypervisor vendor: KVM\\n'));"
        "rc = main(['analyze', '-', '--json']);"
        "bad = [m for m in ('discord', 'pydiscourse', 'aiohttp', 'bot.engine', 'bot.core.engine') if m in sys.modules];"
        "print('BAD', bad, file=sys.stderr); sys.exit(rc if not bad else 9)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["hypervisor"] == "kvm"


def test_eval_dumps_on_own_manifest(capsys, tmp_path):
    (tmp_path / "a.txt").write_text("Hypervisor vendor: KVM\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(
        (FIXTURES / "pastes" / "tabs-to-spaces.txt").read_text(), encoding="utf-8"
    )
    (tmp_path / "c.txt").write_text("nothing here\n", encoding="utf-8")
    rows = [
        {"file": "a.txt", "truth": "virtual", "expected_virt_what_output": ["kvm"]},
        {"file": "b.txt", "truth": "bare-metal", "expected_virt_what_output": []},
        {"file": "c.txt", "truth": "virtual"},
    ]
    manifest = tmp_path / "MANIFEST.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert main(["eval", "dumps", str(manifest), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["total"] == 3 and figures["correct"] == 2
    assert figures["inconclusive_rate"] > 0.3
    assert figures["bare_metal_virtual_errors"] == 0
    assert figures["zos_checked"] == 2 and figures["zos_agree"] == 2
    assert [m["file"] for m in figures["misses"]] == ["c.txt"]
    assert main(["eval", "dumps", str(manifest)]) == 0
    text = capsys.readouterr().out
    assert "accuracy: 66.7%" in text and "MISS c.txt" in text


def test_eval_dumps_bad_manifest(capsys, tmp_path):
    m = tmp_path / "MANIFEST.jsonl"
    m.write_text("{not json\n", encoding="utf-8")
    assert main(["eval", "dumps", str(m)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
