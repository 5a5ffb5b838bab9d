"""makers.yaml: how makers write their names -> the vendor vocabulary."""

import pytest

from detector import analyze
from detector.rules import vendor_word


@pytest.mark.parametrize(
    ("said", "vendor"),
    [
        ("Hewlett-Packard Company", "hp"),
        ("HP Inc.", "hp"),
        ("Hewlett Packard Enterprise", "hpe"),
        ("ASUSTeK Computer Inc.", "asus"),
        ("Micro-Star International Co., Ltd.", "msi"),
        ("Super Micro Computer Inc", "supermicro"),
        ("LG Electronics", "lg"),
        ("BIOSTAR Group", "biostar"),  # not listed: its first word
        ("Dellwood Systems", "dellwood"),  # a spelling must end where a word ends
    ],
)
def test_vendor_word(said, vendor):
    assert vendor_word(said) == vendor


def test_pci_subsystem_names_the_maker_through_its_spelling():
    text = (
        "$ lspci -nnv\n"
        "00:00.0 Host bridge [0600]: Intel Corporation Xeon E3-1200 v6/7th Gen Core Processor Host Bridge/DRAM"
        " Registers [8086:5904] (rev 02)\n"
        "\tSubsystem: ASUSTeK Computer Inc. Device [1043:1a00]\n"
    )
    v = analyze(text)
    assert (v.verdict, v.vendor) == ("bare-metal", "asus")
    assert any(e.signal == "pci-subsystem-maker" and e.points_to == "bare-metal:asus" for e in v.evidence)
