"""Discord rendering: verdict embeds, answers split under Discord's 2,000-character limit.

The answer text itself comes from `bot.render` (shared with the forum); Discord adds
its embed for verdicts and a one-line hint on how to remove or stop auto-replies.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.core.models import Action, Decision
from bot.discord import limits
from detector.model import Verdict

MESSAGE_LIMIT = limits.MESSAGE_CONTENT
FIELD_LIMIT = limits.FIELD_VALUE
EMBED_DESCRIPTION_LIMIT = limits.EMBED_DESCRIPTION

VERDICT_COLOURS: dict[str, discord.Colour] = {
    "bare-metal": discord.Colour.green(),
    "virtual": discord.Colour.red(),
    "container": discord.Colour.orange(),
    "inconclusive": discord.Colour.light_grey(),
}
VERDICT_TITLES = {
    "bare-metal": "Bare metal",
    "virtual": "Virtual machine",
    "container": "Container",
    "inconclusive": "Inconclusive",
}

AUTO_HINT = "-# React with 🗑 to remove this reply · DM me `stop` to turn off automatic replies to you."
HELP_TEXT = (
    "I answer questions about farming ThreeFold Zero OS nodes in a VM or on a VPS, and I judge "
    "hardware dumps.\n"
    "- Ask a question, e.g. *can I farm in a VM?*\n"
    "- Paste or attach (`.txt`/`.log`) the output of `dmidecode`, `lscpu`, `systemd-detect-virt` "
    "or `virt-what` and I'll tell you whether it looks like bare metal.\n"
    "- DM me `stop` / `start` to turn automatic replies to you off or on."
)
ASK_FOR_DUMP_TEXT = (
    "To tell whether a machine is bare metal, run `sudo dmidecode -t system`, `lscpu` and "
    "`systemd-detect-virt` on it and paste the output here (or attach it as a `.txt` file). "
    "Serial numbers, UUIDs, MACs and IP addresses are masked in my answer, and dumps are never stored."
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send: text chunks and an optional verdict embed on the last.

    Built within Discord's limits whatever it is given: a chunk over 2,000 characters is
    split again and the embed fitted (`bot.discord.limits`), so every send path is safe.
    """

    chunks: tuple[str, ...]
    embed: discord.Embed | None = None

    def __post_init__(self) -> None:
        if any(len(c) > limits.MESSAGE_CONTENT for c in self.chunks):
            chunks = tuple(
                p for c in self.chunks for p in (split_text(c) if len(c) > limits.MESSAGE_CONTENT else [c])
            )
            object.__setattr__(self, "chunks", chunks)
        if self.embed is not None and limits.problems(None, [self.embed]):
            object.__setattr__(self, "embed", limits.fit_embed(self.embed))


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into chunks of at most `limit` characters, at paragraph, line or word boundaries.

    A code fence cut in two is closed at the end of one chunk and reopened in the next,
    so both halves still render as code.
    """
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    reopen = ""
    while text:
        budget = limit - len(reopen)
        if len(text) <= budget:
            chunks.append(reopen + text)
            break
        cut = _cut_point(text, budget - 4)  # room for a closing fence
        head, text = text[:cut].rstrip(), text[cut:].lstrip("\n")
        piece = reopen + head
        fence = _open_fence(piece)
        if fence is not None:
            piece += "\n```"
            reopen = fence + "\n"
        else:
            reopen = ""
        chunks.append(piece)
    return chunks


def _cut_point(text: str, budget: int) -> int:
    for sep in ("\n\n", "\n", " "):
        at = text.rfind(sep, 0, budget)
        if at > budget // 3:
            return at
    return budget


def _open_fence(text: str) -> str | None:
    """The opening fence line (e.g. ```text) when `text` ends inside a code block."""
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped
    return fence


_clip = limits.clip


def verdict_embed(verdict: Verdict, *, max_evidence: int = 5) -> discord.Embed:
    """An embed for a verdict: colour by verdict, evidence and next-step fields (text already masked)."""
    title = VERDICT_TITLES.get(verdict.verdict, verdict.verdict)
    what = [verdict.hypervisor, verdict.provider, verdict.vendor]
    detail = ", ".join(w for w in what if w)
    lines = [f"Confidence {verdict.confidence:.0%}" + (f" · {detail}" if detail else "")]
    if verdict.zos_flags_virtual is True:
        lines.append("Zero OS would flag this machine as virtualized: it earns no farming rewards.")
    elif verdict.zos_flags_virtual is False:
        lines.append("Zero OS's own check (`virt-what`) would not flag this machine.")
    lines.extend(f"- {n}" for n in verdict.notes[:3])
    embed = discord.Embed(
        title=f"Verdict: {title}",
        description=_clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        colour=VERDICT_COLOURS.get(verdict.verdict, discord.Colour.light_grey()),
    )
    evidence = sorted(verdict.evidence, key=lambda e: -e.weight)[:max_evidence]
    if evidence:
        rows = [f"`{e.source}:{e.line}` {_clip(e.text, 120)} → {e.points_to}" for e in evidence]
        embed.add_field(name="Evidence", value=_clip("\n".join(rows), FIELD_LIMIT), inline=False)
    if verdict.missing:
        rows = [f"- {m}" for m in verdict.missing[:5]]
        embed.add_field(name="Next steps", value=_clip("\n".join(rows), FIELD_LIMIT), inline=False)
    embed.set_footer(text="Automated analysis by farmhand · the paste was not stored")
    return limits.fit_embed(embed)


def build_reply(decision: Decision, *, auto: bool, prefix: str = "") -> Reply:
    """Turn a decision into Discord messages; `auto` adds the remove/stop hint to auto-replies."""
    from bot.render import render_answer_md  # the shared text renderer (imports the knowledge base)

    text = ""
    if decision.action in (Action.ANSWER, Action.BOTH) and decision.entry is not None:
        # The verdict goes in the embed; the shared renderer gets the answer alone.
        answer_only = Decision(Action.ANSWER, decision.reason, entry=decision.entry, match=decision.match)
        text = render_answer_md(answer_only, platform="discord")
    elif decision.action is Action.ASK_FOR_DUMP:
        text = ASK_FOR_DUMP_TEXT
    elif decision.action is Action.HELP:
        text = HELP_TEXT
    if auto and text:
        text = f"{text}\n{AUTO_HINT}"
    if prefix:
        text = f"{prefix} {text}" if text else prefix
    embed = verdict_embed(decision.verdict) if decision.verdict is not None else None
    chunks = tuple(split_text(text))
    if not chunks and embed is None:
        chunks = (HELP_TEXT,)
    return Reply(chunks=chunks, embed=embed)
