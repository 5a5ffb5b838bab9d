"""Segmenter and parsers: total, indentation-agnostic, tolerant of missing headers and cut-offs."""

from __future__ import annotations

from detector import segment
from detector.parsers import cpuinfo, dmidecode, ip, lscpu, virt_what

DMI = """Handle 0x0001, DMI type 1, 27 bytes
System Information
\tManufacturer: Dell Inc.
\tProduct Name: OptiPlex 7070
\tSerial Number: ABC1234
Handle 0x0002, DMI type 2, 15 bytes
Base Board Information
\tManufacturer: Dell Inc.
\tProduct Name: 0YNVJG
"""


def test_dmidecode_tabs_to_spaces_gives_the_same_facts():
    with_tabs = dmidecode.parse(DMI).facts
    with_spaces = dmidecode.parse(DMI.replace("\t", "        ")).facts
    assert [(f.key, f.value) for f in with_tabs] == [(f.key, f.value) for f in with_spaces]
    assert ("system.product", "OptiPlex 7070") in [(f.key, f.value) for f in with_tabs]
    # no bogus records: exactly the fields we asked for
    assert len(with_tabs) == 4


def test_dmidecode_without_header_keeps_first_record():
    facts = dmidecode.parse("System Information\n\tManufacturer: LENOVO\n\tProduct Name: 20XW\n").facts
    assert ("system.manufacturer", "LENOVO") in [(f.key, f.value) for f in facts]


def test_dmidecode_unindented_fields_after_chat_client_stripped_whitespace():
    facts = dmidecode.parse("System Information\nManufacturer: QEMU\nProduct Name: Standard PC\n").facts
    assert ("system.product", "Standard PC") in [(f.key, f.value) for f in facts]


def test_dmidecode_line_numbers_are_offset_by_start():
    facts = dmidecode.parse(DMI, start=10).facts
    assert facts[0].line == 12


def test_truncated_cpuinfo_does_not_raise_and_flags_are_partial():
    parsed = cpuinfo.parse("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de")
    keys = {f.key for f in parsed.facts}
    assert "cpu.flags" in keys and "cpu.flags_partial" in keys


def test_cpuinfo_many_cpus_one_fact_per_key():
    block = (
        "processor\t: {n}\nvendor_id\t: GenuineIntel\nflags\t\t: fpu tsc msr pae apic cmov sse sse2 vmx\n\n"
    )
    parsed = cpuinfo.parse("".join(block.format(n=n) for n in range(64)))
    assert [f.key for f in parsed.facts].count("cpu.flags") == 1


def test_lscpu_new_layout_indented_keys():
    text = "Architecture: x86_64\nVirtualization features:\n  Hypervisor vendor:     KVM\n  Virtualization type:   full\n"
    facts = {f.key: f.value for f in lscpu.parse(text).facts}
    assert facts["cpu.hypervisor_vendor"] == "KVM"
    assert facts["cpu.virtualization_type"] == "full"


def test_ip_link_names_with_macs():
    text = "2: eth0: <BROADCAST,UP> mtu 1500\n    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
    assert [f.value for f in ip.parse(text).facts] == ["eth0 52:54:00:12:34:56"]


def test_virt_what_empty_output_is_a_fact():
    assert [f.key for f in virt_what.parse("").facts] == ["virt_what.empty"]


def test_split_by_prompts_and_markers():
    text = "root@h:~# lscpu\nArchitecture: x86_64\n$ systemd-detect-virt\nkvm\n[    0.000000] Hypervisor detected: KVM\n"
    tools = [s.tool for s in segment.split(segment.normalize(text))]
    assert tools == ["lscpu", "systemd_detect_virt", "dmesg"]


def test_root_prompt_vs_dmidecode_header_vs_s390_comment():
    assert segment.prompt_command("# dmidecode 3.3") is None
    assert segment.prompt_command("# processors    : 1") is None
    assert segment.prompt_command("# dmidecode -t system") == "dmidecode -t system"
    assert segment.prompt_command("PS C:\\Users\\me> systeminfo") == "systeminfo"


def test_normalize_keeps_line_count():
    text = "```\n\x1b[31m$ lscpu\x1b[0m\r\nArchitecture: x86_64\r\n```\n"
    out = segment.normalize(text)
    assert out.count("\n") == text.replace("\r\n", "\n").count("\n")
    assert "\x1b" not in out and "```" not in out


def test_unflatten_restores_lines():
    flat = "Architecture: x86_64 CPU op-mode(s): 32-bit, 64-bit Vendor ID: GenuineIntel Hypervisor vendor: KVM Virtualization type: full"
    out = segment.normalize(flat)
    assert "\nHypervisor vendor: KVM" in out


def _subcommands_by_character(command: str) -> list[str]:
    """The character-by-character reading `segment.subcommands` must agree with."""
    parts, buf, quote, i = [], [], "", 0
    while i < len(command):
        ch = command[i]
        if quote:
            if ch == quote:
                quote = ""
            buf.append(ch)
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == ";" or command.startswith(("&&", "||"), i):
            parts.append("".join(buf).strip())
            buf = []
            i += 1 if ch == ";" else 2
            continue
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf).strip())
    return [p for p in parts if p]


def test_subcommands_split_as_read_character_by_character():
    import random

    rng = random.Random(11)
    samples = ["a; b && c || d", "echo 'x;y' && z", 'a "b||c" |||d', "a &&& b", "x'unterminated; y", "a|b&c"]
    samples += ["".join(rng.choice("ab ;&|'\"\n") for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    for command in samples:
        if segment._LOOP.match(command) or not any(c in command for c in ";&|"):
            continue
        assert segment.subcommands(command) == _subcommands_by_character(command), command


def test_squashed_console_lines_get_their_newlines_back_and_long_plain_lines_do_not():
    from detector.segment import normalize

    squashed = (
        "[root@g ~]# dmidecode -t system System Information Manufacturer: Red Hat Product Name: KVM "
        "Version: RHEL 7.6.0 PC (i440FX + PIIX, 1996) Serial Number: Not Specified\nok\n"
    )
    assert "\nProduct Name: KVM" in normalize(squashed)
    flags = "$ grep -m1 flags /proc/cpuinfo\nflags\t\t: " + " ".join(f"f{i}" for i in range(120)) + "\n$ uptime\n 10:00 up 3 days\n"
    assert normalize(flags) == flags  # one key in a long line: nothing to split
    prose = "note: " + "word " * 60 + "\nsecond line\nthird line\nfourth\n"
    assert normalize(prose) == prose


def test_prompt_less_commands_start_sections():
    # `cat` of a system path that names a tool, and a virt tool alone on its line, with no prompt.
    text = "cat /proc/device-tree/model\nStarFive VisionFive V2\n\nsystemd-detect-virt\nlxc\ncat notes.txt\nhello\n"
    sections = segment.split(segment.normalize(text))
    tools = [(s.tool, s.command) for s in sections]
    assert ("devicetree", "cat /proc/device-tree/model") in tools
    assert ("systemd_detect_virt", "systemd-detect-virt") in tools
    assert not any(cmd == "cat notes.txt" for _, cmd in tools)  # prose may say `cat` too


def test_lscpu_topology_is_read_on_x86_only():
    from detector.parsers import lscpu

    x86 = "Architecture: x86_64\nCore(s) per socket: 1\nSocket(s): 4\n"
    arm = "Architecture: aarch64\nCore(s) per socket: 1\nSocket(s): 4\n"
    assert [f.value for f in lscpu.parse(x86).facts if f.key == "cpu.topology"] == ["4 sockets x 1 cores"]
    assert [f for f in lscpu.parse(arm).facts if f.key == "cpu.topology"] == []
