"""The shipped literals.json: what the signatures' regexes derive to, so start-up need not parse them."""

from __future__ import annotations

import json

from detector import literals


def test_shipped_file_is_what_the_signatures_derive_to():
    shipped = json.loads(literals.SHIPPED.read_text(encoding="utf-8"))
    assert shipped == literals.derived_file(), "signatures.yaml changed: run `python -m detector.literals`"


def test_shipped_answers_equal_derived_ones():
    data = literals.derived_file()
    for src in data["candidates"]:
        assert literals.candidates(src) == literals.derive_candidates(src), src
    for src in data["line_start"]:
        assert literals.line_start(src) == literals.derive_line_start(src), src


def test_a_regex_the_file_lacks_is_derived_on_the_spot():
    src = r"Hypervisor vendor:[ \t]*Zzyzx-never-shipped"
    assert src not in literals._shipped()["candidates"]
    assert literals.candidates(src) == [frozenset({"hypervisor vendor:"}), frozenset({"zzyzx-never-shipped"})]
    lead, found = literals.line_start(r"^[ \t]*Zzyzx-never-shipped: ")
    assert set(lead) == {" ", "\t"} and found and all(p.startswith("zzyzx") for p in found)


def test_shipped_rows_are_the_yaml_parsed():
    from detector import rules

    assert (literals.SHIPPED.parent / rules.ROWS_CACHE).read_text(encoding="utf-8") == literals.rows_file(), (
        "signatures.yaml changed: run `python -m detector.literals`"
    )


def test_a_stale_rows_file_is_not_read(tmp_path, monkeypatch):
    import json

    from detector import rules

    fake = tmp_path / "detector"
    fake.mkdir()
    (fake / "signatures.yaml").write_text("- {id: only-row, facts: [line], tools: [other], match: 'zzyzx', points_to: neutral, weight: 0.0, reason: r}\n", encoding="utf-8")
    (fake / rules.ROWS_CACHE).write_text(json.dumps({"yaml_sha256": "0" * 64, "rows": [{"id": "stale"}]}), encoding="utf-8")
    monkeypatch.setattr(rules.resources, "files", lambda _pkg: fake)
    rules.rows.cache_clear()
    try:
        assert [r["id"] for r in rules.rows()] == ["only-row"]
    finally:
        monkeypatch.undo()
        rules.rows.cache_clear()
