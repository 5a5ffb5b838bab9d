"""Reply text for forum posts and Discord messages, from an engine `Decision`.

Every reply is short, says it is automated, says in one small line why it answered
(entry and score), and how to reach a human. Dump verdicts quote the strongest few
evidence lines, masked again here so nothing identifying slips through.
"""

from __future__ import annotations

from bot.core.models import Action, Decision
from detector import redact
from detector.model import Verdict
from knowledge.model import Entry

AUTOMATED_FOOTER = "🤖 Automated answer from farmhand, the ThreeFold farming support bot."
_HUMAN = {
    "discourse": "Not what you asked? Reply here and a human moderator will follow up.",
    "discord": "Not what you asked? Ask in the channel and a moderator will follow up.",
}
_VERDICT_TITLE = {
    "bare-metal": "looks like **bare metal**",
    "virtual": "looks **virtualized**",
    "container": "looks like a **container**",
    "inconclusive": "is **inconclusive** from what was pasted",
}
_DUMP_COMMANDS = (
    "`sudo dmidecode -t system`",
    "`lscpu`",
    "`systemd-detect-virt` (or `virt-what`)",
)


def _small(text: str, platform: str) -> str:
    # Discourse allows <small>; Discord has "-# " subtext lines and no HTML.
    return f"-# {text}" if platform == "discord" else f"<small>{text}</small>"


def _sources(entry: Entry) -> str:
    if not entry.links:
        return ""
    first, *rest = entry.links
    more = " · ".join(f"[{link.title}](<{link.url}>)" for link in rest)
    line = f"Full answer: [{first.title}](<{first.url}>)"
    return f"{line}\nSources: {more}" if more else line


def _why(decision: Decision) -> str:
    parts = []
    if decision.entry is not None:
        parts.append(f"entry `{decision.entry.id}`")
    if decision.match is not None:
        parts.append(f"score {decision.match.score:.2f}")
    if decision.verdict is not None:
        parts.append(f"dump verdict {decision.verdict.verdict} ({decision.verdict.confidence:.0%})")
    return "Why I answered: " + (", ".join(parts) if parts else decision.action.value) + "."


def footer(decision: Decision, *, platform: str) -> str:
    """The small closing lines: automated marker, why, how to reach a human."""
    human = _HUMAN.get(platform, _HUMAN["discourse"])
    return _small(f"{AUTOMATED_FOOTER} {_why(decision)} {human}", platform)


def render_verdict_md(verdict: Verdict, *, max_evidence: int = 5) -> str:
    """Verdict, the strongest evidence lines (masked), and what to run next."""
    what = []
    if verdict.hypervisor:
        what.append(verdict.hypervisor)
    if verdict.provider:
        what.append(verdict.provider)
    if verdict.vendor and verdict.verdict == "bare-metal":
        what.append(verdict.vendor)
    detail = f" ({', '.join(what)})" if what else ""
    lines = [
        f"**Hardware check:** this machine {_VERDICT_TITLE.get(verdict.verdict, verdict.verdict)}{detail}"
        f" — confidence {verdict.confidence:.0%}."
    ]
    if verdict.zos_flags_virtual is True:
        lines.append("Zero OS would mark this node as virtualized, so it would earn no farming rewards.")
    elif verdict.zos_flags_virtual is False:
        lines.append("Zero OS's own boot check would not flag this machine as virtualized.")
    evidence = sorted(verdict.evidence, key=lambda e: -e.weight)[: max(0, max_evidence)]
    if evidence:
        lines.append("")
        lines.append("Evidence:")
        lines.append("```")
        for e in evidence:
            text = redact(e.text).replace("```", "'''")[:160]
            lines.append(f"{e.source}:{e.line}: {text}   -> {e.points_to}")
        lines.append("```")
    for note in verdict.notes[:2]:
        lines.append(f"Note: {redact(note)}")
    if verdict.missing:
        lines.append(
            "To be sure, paste the output of: " + ", ".join(f"`{m}`" for m in verdict.missing[:4]) + "."
        )
    return "\n".join(lines)


def _ask_for_dump() -> str:
    cmds = ", ".join(_DUMP_COMMANDS)
    return (
        "I can check whether a machine is bare metal or virtualized. Paste the output of "
        f"{cmds} in a code block (between ``` lines), and I'll tell you what it shows."
    )


def _help(platform: str) -> str:
    call = "mention me (@farmhand)" if platform == "discourse" else "use `/baremetal` or DM me"
    return (
        "I answer questions about farming ThreeFold with Zero OS on virtual machines, VPS and "
        "cloud servers (short version: farm on bare metal), and I check pasted hardware dumps. "
        f"Ask a question and {call}, or paste `lscpu` / `dmidecode` output."
    )


def render_answer_md(decision: Decision, *, platform: str) -> str:
    """The full reply text for a decision that posts (answer, verdict, both, ask for dump, help)."""
    body: list[str] = []
    action = decision.action
    if action in (Action.VERDICT, Action.BOTH) and decision.verdict is not None:
        body.append(render_verdict_md(decision.verdict))
    if action in (Action.ANSWER, Action.BOTH) and decision.entry is not None:
        entry = decision.entry
        body.append(entry.answer.strip())
        src = _sources(entry)
        if src:
            body.append(src)
    if action is Action.ASK_FOR_DUMP:
        body.append(_ask_for_dump())
    if action is Action.HELP or not body:
        body.append(_help(platform))
    body.append(footer(decision, platform=platform))
    return "\n\n".join(body)
