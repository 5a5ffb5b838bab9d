"""Triage on Discord: the matcher's unsure posts, one embed each in `triage_channel`, settled by a click.

For each post in the abstain band (band "unsure": silent, not sure enough to auto-reply) in a
watched channel, and, until `triage_all_until`, for each auto-reply too, the bot posts one embed
in the moderators' channel: a jump link, the masked excerpt, the candidate entry, the probability
and the strongest reasons, with buttons.

- unsure posts: **Send answer** (the candidate entry, as a reply to the post), **Other answer…**
  (an ephemeral select menu of the entries), **Not this**;
- auto-replies: **Right answer**, **Not this** (which also removes the auto-reply).

Only members with one of `moderator_roles` may press; anyone else gets an ephemeral refusal.
The decision is taken in the Store with one conditional UPDATE (`Store.triage_decide`), so when
two moderators press at once exactly one of them wins and exactly one reply goes out (the reply
also claims the post like an auto-reply would). The embed is then edited to say who decided
what, its buttons removed; a stale press gets an ephemeral "already decided".

The buttons are `DynamicItem`s whose custom ids carry the post id (`farmhand:triage:send:<id>`),
registered at start-up: they keep working after a restart, with no view to re-create. Every
decision is stored as a label (bot/labels.py). Shadow mode posts nothing here either.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from bot import labels
from bot.core.models import Action, Decision, Event
from bot.discord.context import NO_PINGS, PLATFORM, REPLY_ASKER_KEY, Deps, platform_error, send_reply
from bot.discord.render import build_reply
from bot.state import TriageItem

log = logging.getLogger(__name__)

PREFIX = "farmhand:triage"
EXCERPT_CHARS = 700
TOP_REASONS = 3
REFUSED = "Only moderators can settle triage items."
GONE = "That triage item is unknown (was it purged?)."
COLOUR_OPEN = discord.Colour.gold()
COLOUR_SENT = discord.Colour.green()
COLOUR_NO = discord.Colour.dark_grey()
DECIDED_TEXT = {
    "send": "Sent {entry}",
    "other": "Sent {entry} (other answer)",
    "not_this": "Not this",
    "removed": "Not this: auto-reply removed",
    "kept": "Right answer",
}


BUTTONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "send": ("Send answer", discord.ButtonStyle.success),
    "other": ("Other answer…", discord.ButtonStyle.primary),
    "no": ("Not this", discord.ButtonStyle.secondary),
    "ok": ("Right answer", discord.ButtonStyle.success),
}


def custom_id(action: str, item_id: str) -> str:
    """The component id of a triage control: action and post id, so no state lives in memory."""
    return f"{PREFIX}:{action}:{item_id}"


class TriageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"farmhand:triage:(?P<action>send|other|no|ok):(?P<item>[0-9]{1,25})",
):
    """A triage button; rebuilt from its custom id on every press (so it survives restarts)."""

    def __init__(self, action: str, item_id: str) -> None:
        label, style = BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id(action, item_id)))
        self.action = action
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TriageButton:
        return cls(match["action"], match["item"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(TriageCog.__cog_name__)  # type: ignore[attr-defined]
        if isinstance(cog, TriageCog):
            await cog.pressed(interaction, self.action, self.item_id)


class TriagePick(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"farmhand:triage:pick:(?P<item>[0-9]{1,25})",
):
    """The "Other answer…" select menu (sent ephemerally to the moderator who pressed)."""

    def __init__(self, item_id: str, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=custom_id("pick", item_id),
                placeholder="Which answer?",
                options=options or [discord.SelectOption(label="-", value="-")],
            )
        )
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TriagePick:
        return cls(match["item"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(TriageCog.__cog_name__)  # type: ignore[attr-defined]
        values = (interaction.data or {}).get("values") or []  # type: ignore[union-attr]
        if isinstance(cog, TriageCog) and values:
            await cog.pressed(interaction, "pick", self.item_id, entry_id=str(values[0]))


def triage_view(item: TriageItem) -> discord.ui.View:
    """The buttons under an open item's embed."""
    view = discord.ui.View(timeout=None)
    actions = ("ok", "no") if item.kind == "auto" else ("send", "other", "no")
    for action in actions:
        view.add_item(TriageButton(action, item.item_id))
    return view


def triage_embed(item: TriageItem, deps: Deps, *, decided: str | None = None) -> discord.Embed:
    """One item: jump link, masked excerpt, candidate entry, probability, reasons (and the decision)."""
    kb = deps.engine.kb
    entry = kb.get(item.entry) if item.entry else None
    what = "Auto-reply" if item.kind == "auto" else "Unsure post"
    colour = COLOUR_OPEN if decided is None else (COLOUR_NO if "Not this" in decided else COLOUR_SENT)
    embed = discord.Embed(
        title=f"{what} #{item.number}"[:256], url=item.url or None, colour=colour
    )
    excerpt = item.text.strip().replace("```", "'''")
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
    embed.description = "\n".join(f"> {line}" for line in excerpt.splitlines()[:15]) or "> (no text)"
    embed.add_field(
        name="Candidate entry",
        value=(f"`{entry.id}` — {entry.title}" if entry else "none")[:1024],
        inline=False,
    )
    score = "?" if item.score is None else f"{item.score:.2f}"
    embed.add_field(name="Probability", value=f"{score} (auto-reply at {deps.engine.threshold:.2f})", inline=True)
    if item.url:
        embed.add_field(name="Post", value=f"[jump to the post]({item.url})", inline=True)
    if item.reasons:
        embed.add_field(name="Top reasons", value=item.reasons[:1024], inline=False)
    if decided is not None:
        embed.add_field(name="Decision", value=decided[:1024], inline=False)
    embed.set_footer(text=f"farmhand triage · {PLATFORM} post {item.item_id}")
    return embed


def top_reasons(decision: Decision) -> str:
    """The strongest feature lines and any veto of the match, one a line."""
    reasons = decision.match.reasons if decision.match is not None else ()
    feats = [r for r in reasons if r.startswith("feature ")][:TOP_REASONS]
    other = [r for r in reasons if r.startswith(("veto", "not for", "entry ")) and "chooser" not in r][:1]
    return "\n".join(f"- {r}" for r in (*feats, *other))


class TriageCog(commands.Cog, name="Triage"):
    """Posts triage embeds and acts on the moderators' clicks."""

    def __init__(self, bot: commands.Bot, deps: Deps) -> None:
        self.bot = bot
        self.deps = deps

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TriageButton, TriagePick)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(TriageButton, TriagePick)

    @property
    def enabled(self) -> bool:
        return self.deps.cfg.triage_channel is not None and not self.deps.shadow

    def wants_auto_replies(self) -> bool:
        """Whether auto-replies are still shown to moderators (`triage_all_until` not passed)."""
        until = self.deps.cfg.triage_all_until
        return self.enabled and until is not None and datetime.now(UTC) < until

    # -- showing -------------------------------------------------------------------------------

    async def offer(self, message: discord.Message, event: Event, decision: Decision, *, auto: bool = False) -> None:
        """Show one post to the moderators: an unsure silent one, or (`auto`) one just auto-answered."""
        match = decision.match
        if not self.enabled or match is None:
            return
        if auto and not self.wants_auto_replies():
            return
        if not auto and (decision.posts or match.band != "unsure"):
            return
        deps = self.deps
        entry = decision.entry.id if decision.entry is not None else match.candidate
        item = deps.store.triage_add(
            platform=PLATFORM,
            item_id=str(message.id),
            where=str(message.channel.id),
            author_id=str(message.author.id),
            text=labels.mask_text(event.text),
            entry=entry,
            score=match.score,
            reasons=top_reasons(decision),
            url=message.jump_url,
            kind="auto" if auto else "unsure",
        )
        if item is None:
            return  # already shown (a replayed event)
        try:
            channel = self.bot.get_channel(self.deps.cfg.triage_channel) or await self.bot.fetch_channel(
                self.deps.cfg.triage_channel  # type: ignore[arg-type]
            )
            sent = await channel.send(  # type: ignore[union-attr]
                embed=triage_embed(item, deps), view=triage_view(item), allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:
            kind = platform_error(exc)
            log.warning("discord: could not post triage item %s (%s)", item.number, kind)
            return
        deps.store.triage_shown(PLATFORM, [item.item_id], str(sent.id))
        log.info("discord: triage item %s shown for message %s", item.number, message.id)

    # -- deciding --------------------------------------------------------------------------------

    def may_decide(self, user: discord.abc.User) -> bool:
        """Members with one of the configured moderator roles (and nobody else)."""
        return isinstance(user, discord.Member) and any(
            role.id in self.deps.cfg.moderator_roles for role in user.roles
        )

    async def pressed(
        self, interaction: discord.Interaction, action: str, item_id: str, *, entry_id: str | None = None
    ) -> None:
        """One click (or choice) on a triage item; answers the interaction exactly once."""
        deps = self.deps
        if not self.may_decide(interaction.user):
            await interaction.response.send_message(REFUSED, ephemeral=True)
            return
        item = deps.store.triage_get(PLATFORM, item_id=item_id)
        if item is None:
            await interaction.response.send_message(GONE, ephemeral=True)
            return
        if item.state == "decided":
            await interaction.response.send_message(_already(item), ephemeral=True)
            return
        if action == "other":
            options = [
                discord.SelectOption(label=e.title[:80], value=e.id, description=e.id[:100])
                for e in deps.engine.kb.entries[:25]
            ]
            view = discord.ui.View(timeout=None)
            view.add_item(TriagePick(item.item_id, options))
            await interaction.response.send_message(
                f"Which answer for triage item #{item.number}?", view=view, ephemeral=True
            )
            return
        if action == "pick" and (entry_id is None or deps.engine.kb.get(entry_id) is None):
            await interaction.response.send_message("Unknown entry.", ephemeral=True)
            return
        decision = {"send": "send", "pick": "other", "no": "not_this", "ok": "kept"}[action]
        if item.kind == "auto" and action == "no":
            decision = "removed"
        who = str(interaction.user.id)
        if not deps.store.triage_decide(PLATFORM, item.item_id, by=who, decision=decision):
            fresh = deps.store.triage_get(PLATFORM, item_id=item_id)
            await interaction.response.send_message(_already(fresh or item), ephemeral=True)
            return
        await interaction.response.defer()  # a component interaction: a deferred update, nothing shown
        entry = entry_id if action == "pick" else item.entry
        if decision in ("send", "other"):
            problem = await self._answer(item, entry)
            if problem is not None:
                deps.store.triage_undo(PLATFORM, item.item_id)
                await interaction.followup.send(f"Not sent: {problem}", ephemeral=True)
                return
        elif decision == "removed":
            await self._remove_auto_reply(item)
        label_decision = {"kept": "send", "removed": "removed"}.get(decision, decision)
        labels.record(
            deps.store,
            platform=PLATFORM,
            item_id=item.item_id,
            where=item.where,
            text=item.text,
            masked=True,
            entry=entry,
            decision=label_decision,
            decided_by=who,
            author_id=item.author_id,
            url=item.url,
        )
        done = DECIDED_TEXT[decision].format(entry=f"`{entry}`") + f" — by {interaction.user.mention}"
        await self._edit_item(item, done)
        if action == "pick":
            try:
                await interaction.edit_original_response(content=f"Done: {done}", view=None)
            except discord.HTTPException as exc:
                platform_error(exc)
        log.info("discord: triage item %s decided: %s", item.number, decision)

    async def _answer(self, item: TriageItem, entry_id: str | None) -> str | None:
        """Post the entry as a reply to the original message, once; a problem (one line) or None."""
        deps = self.deps
        entry = deps.engine.kb.get(entry_id) if entry_id else None
        if entry is None:
            return "no entry to send"
        key = f"msg:{item.item_id}"
        if not deps.store.claim(PLATFORM, key, where=item.where):
            return "the post has already been answered"
        try:
            channel = self.bot.get_channel(int(item.where)) or await self.bot.fetch_channel(int(item.where))
            message = await channel.fetch_message(int(item.item_id))  # type: ignore[union-attr]
            decision = Decision(Action.ANSWER, f"triage: moderator chose {entry.id}", entry=entry)
            sent = await send_reply(message.channel, build_reply(decision, auto=True), reference=message)
        except discord.HTTPException as exc:
            deps.store.release(PLATFORM, key)
            kind = platform_error(exc)
            return "the post is gone" if kind == "not_found" else f"Discord refused ({kind})"
        deps.store.mark_posted(PLATFORM, key, str(sent[0].id), where=item.where)
        for msg in sent:
            deps.store.kv_set(REPLY_ASKER_KEY.format(message_id=msg.id), item.author_id)
        deps.store.record_triage_sent(PLATFORM, item, entry.id, mode=deps.mode)
        return None

    async def _remove_auto_reply(self, item: TriageItem) -> None:
        reply = self.deps.store.reply_id(PLATFORM, f"msg:{item.item_id}")
        if reply is None:
            return
        target = self.bot.get_partial_messageable(int(item.where)).get_partial_message(int(reply))
        try:
            await target.delete()
        except discord.NotFound:
            pass
        except discord.HTTPException as exc:
            platform_error(exc)
            return
        self.deps.store.kv_set(REPLY_ASKER_KEY.format(message_id=reply), "")

    async def _edit_item(self, item: TriageItem, done: str) -> None:
        """Say on the item's embed who decided what; the buttons go."""
        if not item.message_id or self.deps.cfg.triage_channel is None:
            return
        target = self.bot.get_partial_messageable(self.deps.cfg.triage_channel).get_partial_message(
            int(item.message_id)
        )
        try:
            await target.edit(embed=triage_embed(item, self.deps, decided=done), view=None)
        except discord.HTTPException as exc:
            platform_error(exc)
            log.warning("discord: could not edit triage item %s", item.number)


def _already(item: TriageItem) -> str:
    by = f"<@{item.decided_by}>" if item.decided_by else "a moderator"
    what = DECIDED_TEXT.get(item.decision or "", item.decision or "decided").format(entry=f"`{item.entry}`")
    return f"Triage item #{item.number} was already decided by {by}: {what}."
