"""Every size limit Discord enforces on a message, in one place: the numbers, a check, a fit.

Discord refuses a message over any of these with 400 (50035 Invalid Form Body). Whatever
the bot builds goes through `Reply` (bot/discord/render.py), which splits text with
`MESSAGE_CONTENT` and fits its embed with `fit_embed`, so nothing it sends can exceed them;
`problems()` says which limit a message breaks, for tests and a last check before sending.
"""

from __future__ import annotations

import discord

MESSAGE_CONTENT = 2000  # characters of a message's content
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = (
    6000  # title + description + field names and values + footer + author, across a message's embeds
)
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def embed_total(embed: discord.Embed) -> int:
    """The characters Discord counts against `EMBED_TOTAL` for one embed."""
    total = len(embed.title or "") + len(embed.description or "")
    total += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    return total


def problems(content: str | None, embeds: list[discord.Embed] | tuple[discord.Embed, ...] = ()) -> list[str]:
    """Every limit a message with this content and these embeds breaks (empty: Discord accepts it)."""
    found: list[str] = []
    if content and len(content) > MESSAGE_CONTENT:
        found.append(f"content {len(content)} > {MESSAGE_CONTENT}")
    if len(embeds) > EMBEDS_PER_MESSAGE:
        found.append(f"{len(embeds)} embeds > {EMBEDS_PER_MESSAGE}")
    for i, e in enumerate(embeds):
        for what, size, limit in (
            ("title", len(e.title or ""), EMBED_TITLE),
            ("description", len(e.description or ""), EMBED_DESCRIPTION),
            ("fields", len(e.fields), EMBED_FIELDS),
            ("footer", len(e.footer.text or ""), FOOTER_TEXT),
            ("author", len(e.author.name or ""), AUTHOR_NAME),
        ):
            if size > limit:
                found.append(f"embed {i} {what} {size} > {limit}")
        for j, f in enumerate(e.fields):
            if len(f.name or "") > FIELD_NAME:
                found.append(f"embed {i} field {j} name {len(f.name or '')} > {FIELD_NAME}")
            if len(f.value or "") > FIELD_VALUE:
                found.append(f"embed {i} field {j} value {len(f.value or '')} > {FIELD_VALUE}")
    total = sum(embed_total(e) for e in embeds)
    if total > EMBED_TOTAL:
        found.append(f"embeds total {total} > {EMBED_TOTAL}")
    return found


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """A copy of `embed` within every embed limit: each part clipped, then the description
    (and then the last fields) shortened until the total fits."""
    fitted = embed.copy()
    if fitted.title:
        fitted.title = clip(fitted.title, EMBED_TITLE)
    if fitted.description:
        fitted.description = clip(fitted.description, EMBED_DESCRIPTION)
    while len(fitted.fields) > EMBED_FIELDS:
        fitted.remove_field(len(fitted.fields) - 1)
    for i, f in enumerate(fitted.fields):
        fitted.set_field_at(
            i,
            name=clip(f.name or "", FIELD_NAME),
            value=clip(f.value or "", FIELD_VALUE),
            inline=bool(f.inline),
        )
    if fitted.footer.text:
        fitted.set_footer(text=clip(fitted.footer.text, FOOTER_TEXT), icon_url=fitted.footer.icon_url)
    if fitted.author.name:
        author = fitted.author
        fitted.set_author(name=clip(author.name or "", AUTHOR_NAME), url=author.url, icon_url=author.icon_url)
    excess = embed_total(fitted) - EMBED_TOTAL
    if excess > 0 and fitted.description:
        keep = len(fitted.description) - excess
        fitted.description = clip(fitted.description, keep) if keep > 0 else None
    while embed_total(fitted) > EMBED_TOTAL and fitted.fields:
        fitted.remove_field(len(fitted.fields) - 1)
    return fitted
