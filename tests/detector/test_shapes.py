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
