"""`farmhand demo` end to end: sandbox forum, real bot, real HTTP; exits 0 by itself."""

import argparse
import re

from bot.commands import demo


def test_demo_answers_what_it_should_and_exits_0(capsys):
    code = demo.main(argparse.Namespace(seconds=40.0))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ignored: posted before the bot started" in out
    assert "ANSWERED (wrong!)" not in out and "ANSWERED TWICE" not in out
    blocks = {
        m.group(1): m.group(2)
        for m in re.finditer(r"- post \d+ by @\w+ \(.*?\) '([^']+)'\n    -> (\S+)", out)
    }
    assert blocks["Can I farm ThreeFold in a Proxmox VM?"] == "ANSWER"
    assert blocks["Terraform deploy of a VM on the grid times out"] == "SILENT,"
    assert blocks["Farmerbot does not wake up my nodes"] == "SILENT,"
    assert blocks["Is my Hetzner server bare metal? Can I farm on it?"] == "ANSWER_AND_VERDICT"
    assert "(private message to @farmhand)" in out and "looks like **bare metal**" in out
    assert "looks **virtualized** (kvm, hetzner)" in out
    assert "mention: " in out  # the @mention was answered
    assert "a staff member or trusted helper already answered here" in out
    assert re.search(r"\n4 replies posted in 4 topics\n", out)
