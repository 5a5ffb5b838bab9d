"""Replaying exports: every supported shape reads, the matcher runs, the digest and table come out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import knowledge
from bot.cli import main as cli
from bot.ops.replay import ExportError, read_export, replay, replay_report, strip_html

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"


def test_strip_html_keeps_text_drops_markup_and_scripts():
    html = "<p>Is <b>ZOS</b> ok &amp; fine?</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul>"
    assert strip_html(html) == "Is ZOS ok & fine?\none\ntwo"


def test_discourse_pages_directory():
    posts = read_export(EXPORTS / "discourse")
    assert [p.id for p in posts] == ["9105", "9104", "9103", "9102", "9101"]  # 9105 twice: kept once
    first = posts[0]
    assert first.platform == "discourse" and first.where == "4410" and first.author_id == "311"
    assert first.title == "ZOS node in a Proxmox VM?" and first.url == "/t/zos-node-in-proxmox-vm/4410/1"
    assert first.text.startswith("Hi all, I have a Proxmox server") and "<p>" not in first.text
    assert first.created_at is not None and first.created_at.isoformat() == "2024-05-03T10:12:00+00:00"
    by_id = {p.id: p for p in posts}
    assert by_id["9104"].is_reply and not by_id["9104"].is_bot
    assert by_id["9103"].is_bot
    assert "alert" not in by_id["9101"].text


def test_discord_channel_export():
    posts = read_export(EXPORTS / "discord-channel.json")
    assert [p.id[-2:] for p in posts] == ["10", "11", "12", "13"]
    assert (
        posts[0].url
        == "https://discord.com/channels/700000000000000001/800000000000000002/900000000000000010"
    )
    assert posts[0].author_id == "111" and posts[0].platform == "discord"
    assert posts[2].is_bot and posts[3].is_bot  # the bot itself, a "thread created" system message


def test_jsonl_posts_and_other_json_shapes(tmp_path):
    posts = read_export(EXPORTS / "posts.jsonl")
    assert [p.id for p in posts] == ["p1", "p2", "p3", "p4", "p5"]
    assert posts[2].text.startswith("My node in VirtualBox") and posts[2].title == "VirtualBox node"
    assert posts[3].is_reply and posts[4].text == "What is the best GPU for AI workloads on the grid?"

    pages = json.loads((EXPORTS / "discourse" / "posts-page-1.json").read_text(encoding="utf-8"))
    (tmp_path / "pages.json").write_text(json.dumps([pages, pages]), encoding="utf-8")
    assert [p.id for p in read_export(tmp_path / "pages.json")] == ["9105", "9104", "9103"]
    (tmp_path / "array.json").write_text(json.dumps([{"id": 1, "text": "a"}, {"id": 2, "raw": "b"}]), "utf-8")
    assert [(p.id, p.text) for p in read_export(tmp_path / "array.json")] == [("1", "a"), ("2", "b")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"id": 1, "text": "ok"}\n{oops\n', r"bad.jsonl:2: not JSON or JSONL"),
        ("odd.json", '{"hello": "world"}', r"neither a post, a posts.json page nor a Discord export"),
        ("num.json", "42", r"expected JSON objects \(posts or pages\), found int"),
        ("bin.json", b"\xff\xfe\x00garbage", r"not UTF-8 text"),
    ],
)
def test_bad_exports_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=message) as err:
        read_export(path)
    assert "\n" not in str(err.value)


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(ExportError, match="no such file or directory"):
        read_export(tmp_path / "absent.json")
    with pytest.raises(ExportError, match=r"no \.json or \.jsonl files"):
        read_export(tmp_path)


def test_replay_answers_on_topic_posts_and_counts_thresholds():
    kb = knowledge.default_kb()
    result = replay(read_export(EXPORTS / "posts.jsonl"), kb, thresholds=(0.0, 1.0001))
    by_id = {r.item_id: r for r in result.records}
    assert set(by_id) == {"p1", "p2", "p3", "p5"}  # p4 is a reply
    assert result.skipped == {"reply in a topic": 1}
    assert by_id["p1"].action == "answer" and by_id["p1"].entry is not None
    assert by_id["p3"].action == "answer"  # title and body are judged together
    assert by_id["p2"].action == "silent" and by_id["p5"].action == "silent"
    answered = sum(r.action == "answer" for r in result.records)
    assert result.answered_at[round(kb.threshold, 4)] == answered
    assert result.answered_at[1.0001] == 0  # no score exceeds 1
    assert result.answered_at[0.0] >= answered
    for r in result.records:
        assert r.score is not None and 0.0 <= r.score <= 1.0


def test_replay_threshold_counts_never_grow_with_the_threshold():
    result = replay(read_export(EXPORTS / "discourse"), knowledge.default_kb())
    counts = [count for _t, count in sorted(result.answered_at.items())]
    assert counts == sorted(counts, reverse=True)
    assert len(result.records) == 3 and result.skipped == {"bot or system post": 1, "reply in a topic": 1}


def test_replay_report_has_digest_and_table_but_no_post_bodies():
    result = replay(read_export(EXPORTS / "discourse"), knowledge.default_kb())
    md = replay_report(result, source=str(EXPORTS / "discourse"))
    assert md.startswith("# farmhand replay: discourse\n")
    assert "[ZOS node in a Proxmox VM?](/t/4410/1)" in md
    assert "zos-node-in-proxmox-vm" not in md  # the digest links by id, never by slug
    assert "## Posts answered at each threshold" in md and "(current)" in md
    assert "| 0.95 |" in md
    assert "spare capacity" not in md and "Hetzner" not in md  # titles and links, never bodies


def test_replay_command(capsys):
    assert cli(["replay", str(EXPORTS / "discord-channel.json")]) == 0
    out = capsys.readouterr().out
    assert "https://discord.com/channels/700000000000000001/800000000000000002/900000000000000010" in out
    assert cli(["replay", str(EXPORTS / "nothing-here.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_threshold_counts_equal_asking_the_matcher_at_each_threshold():
    """The shortcut in the threshold table gives exactly what a full match per threshold gives."""
    from bot.ops.replay import _on_topic_at

    kb = knowledge.default_kb()
    texts = [p.text for name in ("posts.jsonl", "discord-channel.json") for p in read_export(EXPORTS / name)]
    texts += [f"ZOS node in a Proxmox VM?\n\n{p.text}" for p in read_export(EXPORTS / "discourse")]
    thresholds = [i / 100 for i in range(0, 101)]
    for text in texts:
        exact = {t: kb.match(text, threshold=t).on_topic for t in thresholds}
        assert _on_topic_at(kb, text, thresholds) == exact, text
