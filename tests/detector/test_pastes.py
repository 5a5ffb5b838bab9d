"""Real-world messes: prompts, fences, ANSI, CRLF, tabs->spaces, UTF-16, truncation, flattening."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from detector import InputRefused, analyze, decode

PASTES = Path(__file__).resolve().parents[1] / "fixtures" / "pastes"
EXPECTED = yaml.safe_load((PASTES / "expected.yaml").read_text(encoding="utf-8"))


def test_every_paste_has_an_expectation():
    files = {p.name for p in PASTES.iterdir() if p.name != "expected.yaml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paste(name):
    want = EXPECTED[name]
    if "refused" in want:
        with pytest.raises(InputRefused, match=want["refused"]):
            decode((PASTES / name).read_bytes())
        return
    v = analyze(decode((PASTES / name).read_bytes()))
    assert v.verdict == want["verdict"], (name, v)
    for field in ("hypervisor", "provider", "vendor"):
        if field in want:
            assert getattr(v, field) == want[field], (name, field, v)
    if v.verdict == "inconclusive":
        assert v.missing, "an inconclusive verdict must say what to paste next"


def test_evidence_keeps_the_users_line_numbers():
    v = analyze(decode((PASTES / "prompts-mixed.txt").read_bytes()))
    lines = (PASTES / "prompts-mixed.txt").read_text(encoding="utf-8").split("\n")
    for e in v.evidence:
        original = lines[e.line - 1]
        # The evidence text is the masked original line.
        assert e.text.split(":")[0].strip() in original, (e, original)


def test_truncated_cpuinfo_flags_prove_nothing():
    v = analyze(decode((PASTES / "truncated-cpuinfo.txt").read_bytes()))
    assert all(e.signal != "cpu-flags-no-hypervisor" for e in v.evidence)
    assert "lscpu" in v.missing or "sudo dmidecode -t system" in v.missing


def test_host_capability_lines_are_explained_not_counted():
    v = analyze(decode((PASTES / "virtual-word-noise.txt").read_bytes()))
    host = [e for e in v.evidence if e.points_to == "host-capability"]
    assert host, "VT-x / virbr0 / kvm modules should be shown as host capability"
    assert all(e.weight == 0 for e in host)
    assert any("host VMs" in n for n in v.notes)


def test_tool_verdict_is_evidence_not_proof():
    v = analyze(decode((PASTES / "old-sdv-none-in-vm.txt").read_bytes()))
    assert v.verdict == "virtual"
    assert any(e.signal == "sdv-none" for e in v.evidence), "the contradiction is reported"
    assert any("Contradicting" in n for n in v.notes)
