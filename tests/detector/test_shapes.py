"""Shapes read by their layout (detector/shapes.py): the cheap pre-checks never skip a table."""

from __future__ import annotations

from detector import shapes


def test_every_table_header_word_holds_one_of_the_hints():
    words = shapes._TABLE_WORD.pattern.split("(?:", 1)[1].split(")", 1)[0].split("|")
    assert words == ["manufacturer", "hardware_vendor", "sys_vendor", "vendor"]
    for word in words:
        for spelling in (word, word.upper(), word.capitalize(), word.title()):
            assert any(h in spelling for h in shapes._TABLE_HINTS), spelling


def test_a_wmic_table_is_read_and_a_paste_without_one_is_not_searched():
    table = "Manufacturer           Model\ninnotek GmbH           VirtualBox\n"
    assert [(f.key, f.value) for f in shapes.facts(table)] == [
        ("system.manufacturer", "innotek GmbH"),
        ("system.product", "VirtualBox"),
    ]
    assert shapes.facts("$ a\n" * 1000) == []


def test_a_format_table_underline_gives_the_columns_one_blank_apart():
    table = "Manufacturer Model\n------------ -----\nHP           ProLiant DL380p Gen8\n"
    assert [(f.key, f.value) for f in shapes.facts(table)] == [
        ("system.manufacturer", "HP"),
        ("system.product", "ProLiant DL380p Gen8"),
    ]


def test_steam_computer_information_names_the_machine():
    block = "Computer Information:\n    Manufacturer:  ASRock\n    Model:  X570 Steel Legend\n    Form Factor: Desktop\n"
    assert [(f.key, f.value, f.line) for f in shapes.facts(block)] == [
        ("system.manufacturer", "ASRock", 2),
        ("system.product", "X570 Steel Legend", 3),
    ]


def test_the_kernel_dmi_line_gives_the_machine_name_without_the_firmware():
    from detector import analyze, rules

    line = "[ 1.2] Hardware name: To Be Filled By O.E.M. To Be Filled By O.E.M./J3455-ITX, BIOS P1.40 08/06/2018\n"
    assert [(f.key, f.value) for f in rules.dmi_line_facts(line, 1)] == [
        ("system.dmi_line", "To Be Filled By O.E.M. To Be Filled By O.E.M./J3455-ITX, BIOS P1.40 08/06/2018"),
        ("system.dmi_name", "To Be Filled By O.E.M. To Be Filled By O.E.M./J3455-ITX"),
    ]
    assert [e.signal for e in analyze(line).evidence] == ["dmi-line-placeholder"]
    # a line without the firmware part gives the line alone
    assert [f.key for f in rules.dmi_line_facts("DMI: Acme Frobnicator 3000\n", 1)] == ["system.dmi_line"]
