"""Every platform folder under tests/fixtures/dumps/ is judged as its expected.yaml says.

Each `<tool>.txt` is what that tool prints; the test pastes them together behind the
shell prompt a user would have typed (files named `prompt.txt` already carry their own).
Each file alone must never point the opposite way (bare metal <-> virtual).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from detector import analyze

DUMPS = Path(__file__).resolve().parents[1] / "fixtures" / "dumps"
COMMANDS = {
    "dmidecode": "sudo dmidecode",
    "dmi_sysfs": "grep . /sys/class/dmi/id/*",
    "lscpu": "lscpu",
    "cpuinfo": "cat /proc/cpuinfo",
    "lspci": "lspci",
    "lsusb": "lsusb",
    "lsmod": "lsmod",
    "dmesg": "sudo dmesg",
    "ip": "ip link",
    "uname": "uname -a",
    "inxi": "inxi -F",
    "fetch": "neofetch",
    "hostnamectl": "hostnamectl",
    "systemd_detect_virt": "systemd-detect-virt",
    "virt_what": "sudo virt-what",
    "cgroup": "cat /proc/1/cgroup",
    "environ": "cat /proc/1/environ | tr '\\0' '\\n'",
    "status": "cat /proc/self/status",
    "ls": "ls -d /.dockerenv /run/.containerenv /proc/vz /proc/bc",
    "lsblk": "lsblk -o NAME,MODEL",
    "windows": "systeminfo",
    "xl": "sudo xl list",
}
PLATFORMS = sorted(p.name for p in DUMPS.iterdir() if (p / "expected.yaml").exists())
OPPOSITE = {"bare-metal": {"virtual", "container"}, "virtual": {"bare-metal"}, "container": {"bare-metal"}}


def paste_for(platform: str) -> str:
    """The platform's tool outputs joined as one paste, each behind its prompt."""
    parts = []
    for f in sorted((DUMPS / platform).glob("*.txt")):
        body = f.read_text(encoding="utf-8")
        if f.stem == "prompt":
            parts.append(body)
        else:
            parts.append(f"$ {COMMANDS[f.stem]}\n{body}")
    return "\n".join(parts)


def test_there_are_many_platforms():
    assert len(PLATFORMS) >= 35


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_verdict(platform):
    expected = yaml.safe_load((DUMPS / platform / "expected.yaml").read_text(encoding="utf-8"))
    v = analyze(paste_for(platform))
    assert v.verdict == expected["verdict"], (platform, v.evidence, v.notes)
    for field in ("hypervisor", "provider", "vendor", "zos_flags_virtual"):
        if field in expected:
            assert getattr(v, field) == expected[field], (platform, field, v)
    if "note_contains" in expected:
        assert any(expected["note_contains"] in n for n in v.notes), v.notes
    if v.verdict != "inconclusive":
        assert v.evidence, "a verdict must quote its evidence"
        assert v.confidence > 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_tool_alone_never_points_the_opposite_way(platform):
    expected = yaml.safe_load((DUMPS / platform / "expected.yaml").read_text(encoding="utf-8"))["verdict"]
    for f in sorted((DUMPS / platform).glob("*.txt")):
        # Without a prompt: the segmenter must find the tool by content alone.
        v = analyze(f.read_text(encoding="utf-8"))
        assert v.verdict not in OPPOSITE.get(expected, set()), (f.name, v.verdict, v.evidence)
