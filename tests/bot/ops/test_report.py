"""The moderators' digest over the real audit log, and the report/purge commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY
from bot.ops.report import parse_since, render_digest
from bot.state import Store

NOW = datetime(2024, 5, 8, 12, 0, tzinfo=UTC)


def _decide(store: Store, item: str, action: str, *, author="u1", entry=None, score=None, reason="r", **kw):
    store.record_decision(
        platform=kw.get("platform", "discourse"),
        where=kw.get("where", "t1"),
        item_id=item,
        author_id=author,
        kind=kw.get("kind", "new_topic"),
        action=action,
        entry=entry,
        score=score,
        reason=reason,
        verdict=kw.get("verdict"),
        mode=kw.get("mode", "shadow"),
        url=kw.get("url", f"https://forum.example.org/t/x/{item}"),
        posted=kw.get("posted", False),
    )


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state" / "state.sqlite3")
    _decide(s, "101", "answer", entry="vm-farming", score=0.93, author="alice")
    _decide(s, "102", "answer", entry="rented-servers", score=0.71, mode="live", posted=True, author="bob")
    _decide(s, "103", "silent", entry="vm-farming", score=0.46, reason="off topic: score 0.46 < 0.50")
    _decide(s, "104", "silent", entry="containers", score=0.12, reason="off topic: score 0.12 < 0.50")
    _decide(s, "105", "silent", entry="vm-farming", score=0.88, reason="a human already answered | staff")
    _decide(s, "106", "verdict", score=None, verdict="virtual", platform="discord", author="alice")
    _decide(s, "107", "answer_and_verdict", entry="vm-farming", score=0.8, verdict="virtual", mode="live")
    yield s
    s.close()


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2W", timedelta(weeks=2)),
    ],
)
def test_parse_since_relative(text, delta):
    assert parse_since(text, now=NOW) == NOW - delta


def test_parse_since_absolute_and_bad():
    assert parse_since("2024-05-01", now=NOW) == datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(
        ValueError, match=r"^--since must look like 90m, 24h, 7d, 2w or 2024-05-01, not 'soon'$"
    ):
        parse_since("soon", now=NOW)


def test_digest_lists_answers_near_misses_and_held_back(store):
    md = render_digest(store.decisions_since(NOW - timedelta(days=3650)), title="digest", threshold=0.5)
    answered, _, rest = md.partition("## Near misses")
    near, _, held = rest.partition("## On topic but held back")
    # Answered, or would have been, with entry, score, status and a link.
    assert (
        "| vm-farming | 0.93 | - | shadow (not posted) | [discourse 101](https://forum.example.org/t/101) |"
        in answered
    )
    assert "| rented-servers | 0.71 | - | posted |" in answered
    assert "| verdict | - | - | virtual | shadow (not posted) |" in answered
    assert "| answer_and_verdict | vm-farming | 0.80 | virtual | not posted |" in answered
    assert "103" not in answered and "105" not in answered
    # Near misses: 0.46 is within 0.10 under 0.50, 0.12 is not.
    assert "[discourse 103]" in near and "off topic: score 0.46 < 0.50" in near
    assert "104" not in near
    # On topic but silent: the reason says why, with its pipe escaped so the table holds.
    assert "[discourse 105]" in held and "a human already answered \\| staff" in held
    # Counts
    assert "| answered (posted) | 1 |" in md
    assert "| would have answered (shadow / replay) | 2 |" in md
    assert "| decided to answer, not posted (live) | 1 |" in md
    assert "| near misses (score 0.40 to 0.50) | 1 |" in md
    assert "| on topic but held back | 1 |" in md
    assert "| virtual | 2 |" in md  # verdicts by kind
    assert "| vm-farming | 2 |" in md  # answers by entry


def test_digest_threshold_moves_near_misses(store):
    md = render_digest(store.decisions_since(NOW - timedelta(days=3650)), title="d", threshold=0.2)
    near = md.partition("## Near misses")[2].partition("##")[0]
    assert "[discourse 104]" in near and "[discourse 103]" not in near


def test_empty_digest_says_so():
    md = render_digest([], title="digest: last 7d", threshold=0.5, period="p")
    assert md.startswith("# digest: last 7d\n\np · 0 decisions · auto-reply threshold 0.50")
    assert "No decisions in this period." in md and "## Answered" not in md


# --- commands ----------------------------------------------------------------------------


def _config(tmp_path: Path, state: Path) -> Path:
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {state}\nmode: shadow\nmin_score: 0.5\n"
        "discourse:\n  url: https://forum.example.org\n  api_username: farmhand\n",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def no_secrets(monkeypatch):
    # An admin's shell: the config is readable, the bot's secrets are not in the environment.
    monkeypatch.delenv(ENV_DISCOURSE_KEY, raising=False)
    monkeypatch.delenv(ENV_DISCORD_TOKEN, raising=False)


def test_report_command_prints_digest_without_secrets(store, tmp_path, capsys, no_secrets):
    cfg = _config(tmp_path, store.path)
    assert cli(["report", "-c", str(cfg), "--since", "1d"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# farmhand digest: the last day\n")
    assert "auto-reply threshold 0.50" in out and "[discourse 101]" in out and "[discourse 103]" in out


def test_report_command_errors_are_one_line_and_create_nothing(tmp_path, capsys, no_secrets):
    missing = tmp_path / "nowhere" / "state.sqlite3"
    cfg = _config(tmp_path, missing)
    assert cli(["report", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no state file yet" in err and err.count("\n") == 1
    assert not missing.parent.exists()
    assert cli(["report", "-c", str(cfg), "--since", "yesterday"]) == 2
    assert capsys.readouterr().err.startswith("error: --since must look like")
    assert cli(["report", "-c", str(tmp_path / "absent.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err


def test_purge_removes_only_that_person(store, tmp_path, capsys, no_secrets):
    store.set_opt_out("discourse", "alice", True)
    cfg = _config(tmp_path, store.path)
    assert cli(["purge", "-c", str(cfg), "--user", "alice"]) == 0
    assert capsys.readouterr().out.strip() == f"removed 3 records of user alice from {store.path}"
    left = store.decisions_since(NOW - timedelta(days=3650))
    assert left and all(r.author_id != "alice" for r in left)
    assert {r.item_id for r in left} == {"102", "103", "104", "105", "107"}
    assert not store.is_opted_out("discourse", "alice")
    assert cli(["purge", "-c", str(cfg), "--user", "alice"]) == 0
    assert capsys.readouterr().out.startswith("removed 0 records")


def test_purge_without_state_is_an_error(tmp_path, capsys, no_secrets):
    cfg = _config(tmp_path, tmp_path / "none" / "state.sqlite3")
    assert cli(["purge", "-c", str(cfg), "--user", "alice"]) == 2
    assert "no state file yet" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("7d", "the last 7 days"),
        ("12h", "the last 12 hours"),
        ("1h", "the last hour"),
        ("90m", "the last 90 minutes"),
        ("2w", "the last 2 weeks"),
        ("2024-05-01", "since 2024-05-01"),
    ],
)
def test_since_in_words(text, words):
    from bot.ops.report import describe_since

    assert describe_since(text) == words


def test_report_json_and_range_in_words(store, tmp_path, capsys, no_secrets):
    cfg = _config(tmp_path, store.path)
    assert cli(["report", "-c", str(cfg), "--since", "12h", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["range"] == "the last 12 hours" and doc["threshold"] == 0.5
    assert datetime.fromisoformat(doc["to"]) - datetime.fromisoformat(doc["from"]) == timedelta(hours=12)
    assert cli(["report", "-c", str(cfg), "--since", "2000-01-01", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = [d["item_id"] for d in doc["decisions"]]
    assert "101" in ids and "103" in ids
    first = doc["decisions"][0]
    assert {"at", "platform", "action", "entry", "score", "reason", "verdict"} <= set(first)
    datetime.fromisoformat(first["at"])
    assert cli(["report", "-c", str(cfg), "--since", "2000-01-01"]) == 0
    assert capsys.readouterr().out.startswith("# farmhand digest: since 2000-01-01\n")
