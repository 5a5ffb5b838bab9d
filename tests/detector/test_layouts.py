"""Layouts seen in the wild (tests/fixtures/layouts): prompts of every shape, compound
commands, quotes and log prefixes, key lines alone, marker-less output, inventory tools."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from detector import analyze
from detector.layout import strip_prefixes

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "layouts"
CASES = yaml.safe_load((HERE / "MANIFEST.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout(name):
    want = CASES[name]
    v = analyze((HERE / name).read_text(encoding="utf-8"))
    assert v.verdict == want["verdict"], (name, v.evidence, v.notes)
    for field in ("hypervisor", "provider", "vendor"):
        if field in want:
            assert getattr(v, field) == want[field], (name, field, v)
    if "missing_has" in want:
        assert any(want["missing_has"] in m for m in v.missing), v.missing


# Ways a whole paste gets wrapped on its way to a forum: a Markdown code block indented four
# spaces, an e-mail or Markdown quote, a logger's journald prefix on every line.
WRAPPINGS = {
    "code-block": lambda t: "\n".join("    " + ln if ln.strip() else ln for ln in t.split("\n")),
    "quote": lambda t: "\n".join("> " + ln for ln in t.split("\n")),
    "journald": lambda t: "\n".join("Dec 03 12:00:00 myhost app[123]: " + ln for ln in t.split("\n")),
}


@pytest.mark.parametrize("wrapping", sorted(WRAPPINGS))
def test_wrapping_a_whole_paste_changes_no_verdict(wrapping):
    wrap = WRAPPINGS[wrapping]
    changed = []
    for name in sorted(CASES):
        text = (HERE / name).read_text(encoding="utf-8")
        before, after = analyze(text), analyze(wrap(text))
        if (before.verdict, before.hypervisor, before.provider) != (after.verdict, after.hypervisor, after.provider):
            changed.append((name, before.verdict, before.hypervisor, after.verdict, after.hypervisor))
    assert not changed, changed


def test_every_fixture_is_listed():
    assert {p.name for p in HERE.glob("*.txt")} == set(CASES)


def test_prefixes_go_and_the_line_count_stays():
    text = (
        "> quoted line\n>> nested\nFeb 14 09:07:16 h1 kernel: Hypervisor detected: KVM\n"
        "2024-03-01T10:12:03+0100 h1 agent[12]: Product Name: X\nweb_1  | sys_vendor: QEMU\nplain\n"
    )
    out = strip_prefixes(text)
    assert out.count("\n") == text.count("\n")
    assert out.split("\n")[:6] == [
        "quoted line",
        "nested",
        "kernel: Hypervisor detected: KVM",
        "Product Name: X",
        "sys_vendor: QEMU",
        "plain",
    ]


def test_a_ci_log_stamp_and_bar_go():
    assert strip_prefixes(" 2021-06-29 09:59:08.929 |  2344 2191 0:405 / / rw\n") == " 2344 2191 0:405 / / rw\n"


def test_a_test_harness_prefix_goes():
    text = "01:56:36 INFO | Running 'ethtool -i eth0'\n01:56:36 DEBUG| [stdout] driver: vif\n"
    assert strip_prefixes(text) == "Running 'ethtool -i eth0'\ndriver: vif\n"


def test_a_table_cell_is_not_a_compose_prefix():
    assert strip_prefixes("sda | 100G\n") == "sda | 100G\n"


def test_the_issue_pastes_are_never_bare_metal():
    for prompt in ("$ ", "host:~$ "):
        paste = (
            f"{prompt}systemd-detect-virt; cat /sys/class/dmi/id/product_name\nnone\nVMware Virtual Platform\n"
            f"{prompt}dmesg | grep -i hypervisor\n{prompt.strip()}\n"
        )
        v = analyze(paste)
        assert v.verdict == "virtual" and v.hypervisor == "vmware"
        assert any("none" in n for n in v.notes)  # the contradiction is reported


def test_a_run_of_the_same_prompt_is_one_prompt_and_line_numbers_stay():
    from detector import segment

    paste = "$ ls\n" * 10 + "$ systemd-detect-virt\nkvm\n"
    sections = segment.split(segment.normalize(paste))
    assert [s.command for s in sections] == ["ls", "systemd-detect-virt"]
    v = analyze(paste)
    assert v.verdict == "virtual" and v.hypervisor == "kvm"
    assert any(e.line == 12 and e.text.strip() == "kvm" for e in v.evidence)
    # a command typed twice keeps both prompts
    assert [s.command for s in segment.split("$ virt-what\n$ virt-what\nkvm\n")] == ["virt-what", "virt-what"]


def test_a_compose_service_counts_once_it_prefixes_two_lines():
    from detector.layout import compose_service

    assert compose_service("a\nweb-1  | one\nweb-1  | two\n") == (2, "web-1")
    # one cell of a table is no service's log
    assert compose_service("| name | count |\nweb-1  | 3\ndb-1  | 4\n") is None
    assert compose_service("no bars here\n") is None


def test_journal_host_names_are_read_and_masked_in_the_evidence():
    from detector.layout import journal_units

    text = "Mar 02 08:01:30 ip-10-0-12-34.ec2.internal systemd[1]: Started x.\nMar 02 08:01:31 ip-10-0-12-34.ec2.internal app[9]: y\n"
    units, hosts = journal_units(text)
    assert units == [(1, "systemd"), (2, "app")]
    assert hosts == [(1, "ip-10-0-12-34.ec2.internal")]
    v = analyze(text)
    assert v.provider == "aws"
    assert all("ip-10-0-12-34" not in e.text for e in v.evidence)
