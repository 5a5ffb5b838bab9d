"""Reply rendering: automated marker, why line, sources, masked evidence, next steps."""

from bot.core.models import Action, Decision
from bot.render import AUTOMATED_FOOTER, render_answer_md, render_verdict_md
from detector.model import Evidence, Verdict
from knowledge import default_kb
from knowledge.model import Match

VERDICT = Verdict(
    verdict="virtual",
    hypervisor="kvm",
    provider="hetzner",
    confidence=0.97,
    zos_flags_virtual=True,
    evidence=tuple(
        Evidence("dmidecode", i, f"Serial Number: ABC12345{i} host 10.1.2.{i}", f"sig{i}", "virtual:kvm", w)
        for i, w in enumerate((0.2, 0.9, 0.5, 0.7, 0.3, 0.8, 0.1), start=1)
    ),
    missing=("lspci -nn",),
)


def test_answer_has_body_sources_marker_why_and_human():
    entry = default_kb().get("vm-farming")
    d = Decision(Action.ANSWER, "on topic", entry=entry, match=Match(True, entry.id, 0.83, entry.id))
    md = render_answer_md(d, platform="discourse")
    assert entry.answer.strip()[:40] in md
    assert f"Full answer: [{entry.links[0].title}](<{entry.links[0].url}>)" in md
    assert AUTOMATED_FOOTER in md and "Why I answered: entry `vm-farming`, score 0.83." in md
    assert "human moderator" in md
    assert md.rstrip().endswith("</small>")
    discord = render_answer_md(d, platform="discord")
    assert "<small>" not in discord and "\n-# " in discord


def test_verdict_shows_strongest_evidence_masked_and_next_step():
    md = render_verdict_md(VERDICT, max_evidence=5)
    assert "looks **virtualized** (kvm, hetzner)" in md and "97%" in md
    assert "earn no farming rewards" in md
    lines = [line for line in md.splitlines() if line.startswith("dmidecode:")]
    assert [line.split(":")[1] for line in lines] == ["2", "6", "4", "3", "5"]  # by weight, top 5
    assert "10.1.2." not in md and "ABC12345" not in md  # masked
    assert "`lspci -nn`" in md


def test_both_ask_for_dump_and_help():
    entry = default_kb().get("rented-servers")
    both = render_answer_md(Decision(Action.BOTH, "r", entry=entry, verdict=VERDICT), platform="discourse")
    assert both.index("Hardware check") < both.index(entry.answer.strip()[:30])
    assert "dump verdict virtual (97%)" in both
    ask = render_answer_md(Decision(Action.ASK_FOR_DUMP, "r"), platform="discourse")
    assert "dmidecode" in ask and "lscpu" in ask and AUTOMATED_FOOTER in ask
    help_md = render_answer_md(Decision(Action.HELP, "r"), platform="discourse")
    assert "bare metal" in help_md and "@farmhand" in help_md
