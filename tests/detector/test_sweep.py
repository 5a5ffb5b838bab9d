

def test_a_nested_value_is_read_only_when_indented_deeper_and_plain():
    from detector.sweep import facts

    nested = facts("    manufacturer:\n        Red Hat\n")
    assert [(f.key, f.value, f.line) for f in nested] == [("system.manufacturer", "Red Hat", 2)]
    # The next key at the same depth, a list item or a `key: value` line is no nested value.
    assert facts("manufacturer:\nRed Hat\n") == []
    assert facts("  manufacturer:\n    - Red Hat\n") == []
    assert [f.key for f in facts("  manufacturer:\n    product: X\n")] == ["system.product"]
