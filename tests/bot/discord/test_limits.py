"""Discord's message and embed limits, each at its edge; the bot's embeds and replies stay within them."""

from __future__ import annotations

import discord
import pytest

from bot.discord import limits
from bot.discord.render import Reply, verdict_embed
from detector.model import Evidence, Verdict
from tests.bot.discord import fake_discord as fake


def _accepted_by_fake(content: str | None, embeds: list[discord.Embed]) -> bool:
    body = {"content": content, "embeds": [e.to_dict() for e in embeds]}
    return fake.message_problem(body) is None


def _embed_with(part: str, size: int) -> discord.Embed:
    e = discord.Embed()
    if part == "title":
        e.title = "t" * size
    elif part == "description":
        e.description = "d" * size
    elif part == "fields":
        for _ in range(size):
            e.add_field(name="n", value="v")
    elif part == "field name":
        e.add_field(name="n" * size, value="v")
    elif part == "field value":
        e.add_field(name="n", value="v" * size)
    elif part == "footer":
        e.set_footer(text="f" * size)
    elif part == "author":
        e.set_author(name="a" * size)
    return e


EMBED_PARTS = [
    ("title", limits.EMBED_TITLE),
    ("description", limits.EMBED_DESCRIPTION),
    ("fields", limits.EMBED_FIELDS),
    ("field name", limits.FIELD_NAME),
    ("field value", limits.FIELD_VALUE),
    ("footer", limits.FOOTER_TEXT),
    ("author", limits.AUTHOR_NAME),
]


def test_the_limits_are_discords():
    assert limits.MESSAGE_CONTENT == fake.CONTENT_MAX == 2000
    assert limits.EMBEDS_PER_MESSAGE == fake.EMBEDS_MAX == 10
    assert limits.EMBED_TOTAL == fake.EMBED_TOTAL_MAX == 6000
    assert (limits.EMBED_TITLE, limits.EMBED_DESCRIPTION) == (256, 4096)
    assert (limits.EMBED_FIELDS, limits.FIELD_NAME, limits.FIELD_VALUE) == (25, 256, 1024)
    assert (limits.FOOTER_TEXT, limits.AUTHOR_NAME) == (2048, 256)


def test_content_at_its_edge():
    assert limits.problems("x" * 2000) == [] and _accepted_by_fake("x" * 2000, [])
    assert limits.problems("x" * 2001) and not _accepted_by_fake("x" * 2001, [])


@pytest.mark.parametrize(("part", "limit"), EMBED_PARTS)
def test_each_embed_limit_at_its_edge(part, limit):
    at, over = _embed_with(part, limit), _embed_with(part, limit + 1)
    assert limits.problems(None, [at]) == [] and _accepted_by_fake(None, [at])
    assert len(limits.problems(None, [over])) == 1 and not _accepted_by_fake(None, [over])
    fitted = limits.fit_embed(over)
    assert limits.problems(None, [fitted]) == [] and _accepted_by_fake(None, [fitted])
    assert limits.fit_embed(at).to_dict() == at.to_dict(), "an embed within the limits is left alone"


def test_embed_total_at_its_edge_and_fitted():
    e = _embed_with("description", 4096)
    e.add_field(name="n" * 200, value="v" * 1024)
    e.set_footer(text="f" * 680)  # 6,000 exactly
    assert limits.embed_total(e) == 6000 and limits.problems(None, [e]) == [] and _accepted_by_fake(None, [e])
    e.set_footer(text="f" * 681)
    assert limits.problems(None, [e]) == ["embeds total 6001 > 6000"] and not _accepted_by_fake(None, [e])
    fitted = limits.fit_embed(e)
    assert limits.embed_total(fitted) <= 6000 and _accepted_by_fake(None, [fitted])
    assert fitted.footer.text == e.footer.text and fitted.fields[0].value == e.fields[0].value


def test_embeds_per_message_at_its_edge():
    ten = [_embed_with("title", 1) for _ in range(10)]
    assert limits.problems(None, ten) == [] and _accepted_by_fake(None, ten)
    eleven = [*ten, _embed_with("title", 1)]
    assert limits.problems(None, eleven) == ["11 embeds > 10"] and not _accepted_by_fake(None, eleven)


def test_the_largest_verdict_embed_fits_in_6000():
    long = "x" * 3000
    verdict = Verdict(
        verdict="virtual",
        hypervisor="kvm",
        provider="hetzner",
        confidence=0.9,
        zos_flags_virtual=True,
        evidence=tuple(Evidence("dmidecode", i, long, "s", "virtual:" + "k" * 300, 1.0) for i in range(9)),
        missing=tuple(long for _ in range(9)),
        notes=tuple(long for _ in range(9)),
    )
    embed = verdict_embed(verdict)
    assert limits.embed_total(embed) <= 6000
    assert _accepted_by_fake(None, [embed])
    assert [f.name for f in embed.fields] == ["Evidence", "Next steps"], "the evidence is kept"


def test_a_reply_never_carries_a_chunk_or_embed_over_the_limit():
    big = _embed_with("description", 5000)
    reply = Reply(("word " * 1000,), big)
    assert len(reply.chunks) == 3 and all(len(c) <= 2000 for c in reply.chunks)
    assert limits.problems(None, [reply.embed]) == []
