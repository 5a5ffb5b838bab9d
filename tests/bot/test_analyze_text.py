"""`farmhand analyze` as a farmer reads it: one plain sentence, then the deciding lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

DUMPS = Path(__file__).resolve().parents[1] / "fixtures" / "dumps"


def _paste(tmp_path: Path, name: str) -> Path:
    p = tmp_path / f"{name}.txt"
    p.write_text("\n".join(f.read_text() for f in sorted((DUMPS / name).glob("*.txt"))))
    return p


@pytest.mark.parametrize(
    ("name", "first"),
    [
        (
            "vmware",
            "This is a virtual machine (VMware). Zero OS would mark it virtualized: "
            "it would earn no farming rewards.",
        ),
        (
            "dell-poweredge-r640",
            "This looks like real hardware (Dell PowerEdge R640). Zero OS would not see a hypervisor "
            "here, so it would not be marked virtualized.",
        ),
        (
            "docker-container",
            "This is a container (Docker). Zero OS does not run in a container: it boots on the machine itself.",
        ),
        ("hetzner-cloud", "This is a virtual machine (KVM, Hetzner). Zero OS would mark it virtualized:"),
    ],
)
def test_analyze_opens_with_one_plain_sentence(tmp_path, capsys, name, first):
    assert main(["analyze", str(_paste(tmp_path, name))]) == 0
    out = capsys.readouterr().out
    assert out.startswith(first)
    assert "\nWhy (" in out


def test_signal_ids_and_weights_only_with_verbose(tmp_path, capsys):
    p = _paste(tmp_path, "vmware")
    assert main(["analyze", str(p)]) == 0
    plain = capsys.readouterr().out
    assert "weight" not in plain and "dmi-" not in plain and "Confidence:" not in plain
    assert main(["analyze", str(p), "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert verbose.startswith("This is a virtual machine (VMware).")
    assert "weight 0." in verbose and "Confidence: " in verbose and "\nEvidence:\n" in verbose


def test_proxmox_host_quotes_the_interface_line_not_the_mac_line(tmp_path, capsys):
    p = _paste(tmp_path, "proxmox-host")
    outs = {}
    for flags in ((), ("--verbose",)):
        assert main(["analyze", str(p), *flags]) == 0
        outs[flags] = out = capsys.readouterr().out
        assert "4: tap100i0: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP>" in out
        assert "link/ether" not in out
    assert outs[()].startswith("This looks like real hardware (Supermicro).")
    assert "this machine runs virtual machines itself: a host, not a guest" in outs[()]
