"""Splitting a post into the question and the pasted tool output."""

from bot.core.paste import split_paste


def _dumpish(chunk: str) -> bool:
    # Stand-in rule for these tests only: tool output has "Key: value" lines.
    return sum(":" in line for line in chunk.splitlines()) >= 2


def test_fenced_block_is_dump_and_prose_is_kept():
    text = "Is my server bare metal?\n\n```\nManufacturer: QEMU\nProduct Name: Standard PC\n```\nThanks!"
    p = split_paste(text, _dumpish)
    assert p.has_dump
    assert "Manufacturer: QEMU" in p.dump and "Manufacturer" not in p.prose
    assert "Is my server bare metal?" in p.prose and "Thanks!" in p.prose


def test_unfenced_block_judged_by_the_detector_rule():
    text = "Here is lscpu\n\nArchitecture: x86_64\nHypervisor vendor: KVM\n\nwhat do you think"
    p = split_paste(text, _dumpish)
    assert p.dump == "Architecture: x86_64\nHypervisor vendor: KVM"
    assert p.prose == "Here is lscpu\n\nwhat do you think"


def test_one_line_fence_is_a_quoted_command_not_a_dump():
    p = split_paste("Should I run\n```\nsudo dmidecode -t system\n```\nfirst?", lambda _c: False)
    assert not p.has_dump
    assert "sudo dmidecode" in p.prose


def test_unclosed_fence_takes_the_rest():
    p = split_paste("look:\n```\nline one\nline two", lambda _c: False)
    assert p.dump == "line one\nline two" and p.prose == "look:"


def test_plain_question_has_no_dump():
    p = split_paste("Can I farm in a VM?", _dumpish)
    assert not p.has_dump and p.prose == "Can I farm in a VM?"
