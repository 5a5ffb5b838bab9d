"""The public API: decode, read_limited, looks_like_dump, redact, analyze's JSON contract."""

from __future__ import annotations

import io
import json

import pytest

from detector import (
    DEFAULT_MAX_BYTES,
    InputRefused,
    Verdict,
    analyze,
    decode,
    looks_like_dump,
    read_limited,
    redact,
)
from detector.model import VERDICT_KINDS

VOCAB_HYPERVISOR = {
    "kvm",
    "qemu",
    "vmware",
    "virtualbox",
    "hyperv",
    "xen",
    "parallels",
    "bhyve",
    "firecracker",
    "acrn",
    "bochs",
    "powervm",
    "zvm",
    "other",
    "docker",
    "podman",
    "lxc",
    "openvz",
    "systemd-nspawn",
    "wsl1",
}
VOCAB_PROVIDER = {
    "aws",
    "gcp",
    "azure",
    "oracle",
    "digitalocean",
    "hetzner",
    "ovh",
    "contabo",
    "vultr",
    "linode",
    "scaleway",
    "alibaba",
    "ibm",
    "upcloud",
    "ionos",
    "openstack",
    "proxmox",
    "wsl",
    "other",
}


def test_decode_utf16_with_and_without_bom():
    text = "Hypervisor vendor: KVM\n"
    assert decode(text.encode("utf-16")) == text
    assert decode(text.encode("utf-16-le")) == text


def test_decode_latin1_fallback():
    assert decode("Vendor: Soci\xe9t\xe9\n".encode("latin-1")) == "Vendor: Soci\xe9t\xe9\n"


def test_decode_refuses_binary():
    with pytest.raises(InputRefused, match="binary"):
        decode(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4)
    with pytest.raises(InputRefused, match="binary"):
        decode(bytes(range(256)) * 40)


def test_decode_reads_nul_separated_environ():
    raw = b"TERM=xterm\x00container=podman\x00PATH=/usr/bin:/bin\x00HOME=/root\x00"
    assert decode(raw) == "TERM=xterm\ncontainer=podman\nPATH=/usr/bin:/bin\nHOME=/root\n"
    from detector import analyze

    assert analyze(decode(raw)).verdict == "container"
    # NULs in runs, or between non-text bytes, are still binary
    with pytest.raises(InputRefused, match="binary"):
        decode(b"abc\x00\x00\x00\x00def\x00\x00\x00ghi\x00\x00\x00\x00jkl")
    with pytest.raises(InputRefused, match="binary"):
        decode(b"\x01\x02\x03\x00\x04\x05\x06\x00\x07\x08\x00\x0e\x0f")


def test_decode_refuses_too_large():
    with pytest.raises(InputRefused, match="larger than the 10 MB limit"):
        decode(b"a" * (DEFAULT_MAX_BYTES + 1))


def test_read_limited_stops_reading():
    stream = io.BytesIO(b"x" * 5000)
    with pytest.raises(InputRefused) as exc:
        read_limited(stream, max_bytes=1000)
    assert "\n" not in str(exc.value)
    assert stream.tell() <= 1001 + (1 << 20)  # one chunk at most past the limit
    assert stream.tell() == 1001
    assert read_limited(io.BytesIO(b"abc"), max_bytes=3) == b"abc"


@pytest.mark.parametrize(
    "text",
    [
        "$ systemd-detect-virt\nkvm\n",
        "Hypervisor vendor: KVM",
        "Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: Dell Inc.",
        "[    0.000000] Hypervisor detected: KVM",
        "00:03.0 Ethernet controller: Red Hat, Inc. Virtio network device",
        "Manufacturer: Dell Inc.\nProduct Name: PowerEdge R640\n",
    ],
)
def test_looks_like_dump_true(text):
    assert looks_like_dump(text)


@pytest.mark.parametrize(
    "text",
    [
        "I ran lscpu and it says something about virtualization, is my VPS virtual?",
        "Can I farm on a virtual machine? My friend says dmidecode tells you.",
        "",
        "Manufacturer: Dell",
    ],
)
def test_looks_like_dump_false(text):
    assert not looks_like_dump(text)


def test_redact_masks_identifiers_and_keeps_oui():
    out = redact(
        "root@myfarm:~# ip link\n    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
        "\tSerial Number: R96KY83\n\tUUID: 806F8C2B-5CB1-DF11-9CFD-B727E82CF6BB\n"
        "    inet 192.168.1.10/24 scope global eth0\n    inet6 2a01:4f8:1c1c:5d7a::1/64 scope global\n"
        " Static hostname: farm-node-1\nLinux farm-node-1 6.1.0 #1 SMP x86_64\n"
    )
    for secret in ("myfarm", "12:34:56", "R96KY83", "806F8C2B", "192.168.1.10", "2a01:4f8", "farm-node-1"):
        assert secret not in out, secret
    assert "52:54:00" in out
    assert "Serial Number: Not Specified" in redact("Serial Number: Not Specified")


def test_evidence_is_redacted():
    v = analyze(
        "$ sudo dmidecode -t system\nSystem Information\n\tManufacturer: QEMU\n"
        "\tProduct Name: Standard PC (Q35 + ICH9, 2009)\n\tSerial Number: SECRET123\n"
        "$ ip link\n2: eth0: <UP> mtu 1500\n    link/ether 52:54:00:aa:bb:cc brd ff:ff:ff:ff:ff:ff\n"
    )
    dumped = json.dumps(v.to_dict())
    assert "aa:bb:cc" not in dumped and "SECRET123" not in dumped


def test_json_contract_and_vocabulary():
    v = analyze("Hypervisor vendor: KVM\nVirtualization type: full\n")
    d = v.to_dict()
    assert set(d) >= {
        "verdict",
        "hypervisor",
        "provider",
        "vendor",
        "confidence",
        "zos_flags_virtual",
        "evidence",
        "missing",
    }
    assert d["verdict"] in VERDICT_KINDS
    assert d["hypervisor"] in VOCAB_HYPERVISOR
    assert 0 <= d["confidence"] <= 1
    for e in d["evidence"]:
        assert set(e) == {"source", "line", "text", "signal", "points_to", "weight"}


def test_signature_vocabulary_matches_design():
    from detector.rules import signatures

    for s in signatures():
        assert s.hypervisor is None or s.hypervisor in VOCAB_HYPERVISOR or s.hypervisor == "@named", s.id
        assert s.provider is None or s.provider in VOCAB_PROVIDER, s.id
        assert s.vendor is None or s.vendor == s.vendor.lower(), s.id
        assert 0 <= s.weight <= 1 and s.reason, s.id


def test_named_words_are_vocabulary_ids():
    from detector.rules import _names

    words, _ = _names()
    assert set(words.values()) <= VOCAB_HYPERVISOR
    assert {"docker", "lxc", "openvz", "systemd-nspawn", "podman"} <= set(words.values())


def test_named_row_names_the_platform_its_text_holds():
    assert analyze("$ systemd-detect-virt\nlxc\n").hypervisor == "lxc"
    assert analyze("VM Type    : OpenVZ\n").hypervisor == "openvz"
    assert analyze("[    1.0] systemd[1]: Detected virtualization systemd-nspawn.\n").hypervisor == "systemd-nspawn"
    assert analyze("[    2.1] systemd[1]: Detected virtualization oracle.\n").hypervisor == "virtualbox"
    assert analyze("[ERROR]: Unknown hypervisor vendor: 'VBoxVBoxVBox'\n").hypervisor == "virtualbox"
    # a generic word names nothing
    v = analyze("$ systemd-detect-virt\ncontainer-other\n")
    assert v.verdict == "container" and v.hypervisor is None


def test_empty_and_unrelated_are_inconclusive_with_missing():
    for text in ("", "hello, is my node ok?"):
        v = analyze(text)
        assert isinstance(v, Verdict)
        assert v.verdict == "inconclusive"
        assert "sudo dmidecode -t system" in v.missing
        assert v.zos_flags_virtual is None


def test_conclusive_guest_outweighs_many_bare_metal_lines():
    bare = "".join(
        f"Bus 001 Device {i:03d}: ID 046b:ff01 American Megatrends, Inc. Virtual Hub\n" for i in range(50)
    )
    v = analyze("$ lsusb\n" + bare + "$ lscpu\nHypervisor vendor: VMware\nVirtualization type: full\n")
    assert v.verdict == "virtual"
    assert any(e.points_to.startswith("bare-metal") for e in v.evidence), "contradiction shown"


def test_evidence_list_is_capped():
    lines = "".join(
        f"0{i % 10}:0{i % 8}.0 Ethernet controller: Red Hat, Inc. Virtio network device\n" for i in range(500)
    )
    v = analyze("$ lspci\n" + lines)
    assert len(v.evidence) <= 12 + 4 + 3 + 3
