

def test_a_nested_value_is_read_only_when_indented_deeper_and_plain():
    from detector.sweep import facts

    nested = facts("    manufacturer:\n        Red Hat\n")
    assert [(f.key, f.value, f.line) for f in nested] == [("dmi.manufacturer_any", "Red Hat", 2)]
    # The next key at the same depth, a list item or a `key: value` line is no nested value.
    assert facts("manufacturer:\nRed Hat\n") == []
    assert facts("  manufacturer:\n    - Red Hat\n") == []
    assert [f.key for f in facts("  manufacturer:\n    product: X\n")] == ["system.product"]


def test_a_bare_manufacturer_of_a_cpu_or_dimm_is_no_system_maker():
    from detector import analyze

    cpu = "{ cpu: { manufacturer: 'Intel', brand: 'Core i7-9750H', cores: 4, virtualization: false } }\n"
    assert analyze(cpu).verdict == "inconclusive"
    # a hypervisor's name under a bare key still counts, and so does a maker of whole systems
    assert analyze("manufacturer: QEMU\n").verdict == "virtual"
    assert analyze("manufacturer: Dell Inc.\n").vendor == "dell"


def test_virt_words_are_the_regex_matches():
    from detector import sweep

    texts = [
        "$ systemd-detect-virt\nkvm\n$ virt-what\n\nxen\nxen-hvm\n",
        "systemd-detect-virt virt-what\nkvm\nvirt-what\nvmware\n",
        "x" * 130 + " systemd-detect-virt\nkvm\n# systemd-detect-virt\n# virt-what\nnone\n",
        "virt-what",
        "prose about virt-what; and systemd-detect-virt\n  oracle  \n",
    ]
    for text in texts:
        want = [(m.start(), m.group(0)) for m in sweep._VIRT_WORD.finditer(text)]
        assert [(m.start(), m.group(0)) for m in sweep._virt_words(text)] == want, text
