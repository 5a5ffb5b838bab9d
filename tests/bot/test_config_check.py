"""`farmhand config check` reports every problem at once, with lines and a way out; `kb check` plurals."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ENV_DISCORD_TOKEN, ENV_DISCOURSE_KEY, ConfigError, parse_config

ENV = {ENV_DISCOURSE_KEY: "k" * 64, ENV_DISCORD_TOKEN: "t.o.k"}

MANY = """\
state_path: {state}
mode: live
min_scor: 0.6
discourse:
  url: ftp://forum.example.org
  api_username: farmhand
  poll_second: 5
  answer_staff: maybe
http:
  listen: nope
mode: shadow
"""


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv(ENV_DISCOURSE_KEY, "k" * 64)


def test_every_problem_at_once_with_lines_and_did_you_mean(tmp_path, capsys, secrets):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(MANY.format(state=tmp_path / "state.sqlite3"))
    assert main(["config", "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"error: {cfg}:11: duplicate key mode (first on line 2); keep one",  # YAML would keep the last
        f"error: {cfg}:3: unknown key min_scor; did you mean `min_score`?",
        f"error: {cfg}:7: unknown key discourse.poll_second; did you mean `discourse.poll_seconds`?",
        f"error: {cfg}:5: discourse.url must be an http(s) URL, not 'ftp://forum.example.org'",
        f"error: {cfg}:8: discourse.answer_staff must be true or false, not 'maybe'",
        f"error: {cfg}:10: http.listen must look like HOST:PORT, not 'nope'",
        f"6 problems in {cfg}",
    ]


def test_the_error_of_several_problems_is_one_line_naming_the_first():
    with pytest.raises(ConfigError) as exc:
        parse_config("state_path: s\nmode: loud\nretention_days: -1\n", source="f.yaml", env=ENV)
    assert str(exc.value) == (
        "f.yaml:2: mode must be 'live' or 'shadow', not 'loud' "
        "(and 1 more problem; `farmhand config check` lists them)"
    )
    assert exc.value.problems[1] == "f.yaml:3: retention_days must be an integer >= 0, not -1"


def test_unknown_key_far_from_any_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"^f.yaml:2: unknown key zzz; allowed: discord, discourse, http,"):
        parse_config("state_path: s\nzzz: 1\n", source="f.yaml", env=ENV)


def test_duplicate_keys_are_errors_in_nested_sections_too():
    text = (
        "state_path: s\ndiscourse:\n  url: https://a.example\n  api_username: a\n  url: https://b.example\n"
    )
    with pytest.raises(ConfigError, match=r"^f.yaml:5: duplicate key discourse.url \(first on line 3\)"):
        parse_config(text, source="f.yaml", env=ENV)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d, "is a directory; name a file in it, e.g. "),
        (
            lambda d: (d / "afile").write_text("x") and d / "afile" / "sub" / "state.sqlite3",
            "is not a directory",
        ),
    ],
)
def test_state_path_must_be_a_writable_file_location(tmp_path, capsys, secrets, make, needle):
    state = make(tmp_path)
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(f"state_path: {state}\ndiscourse: {{url: 'https://f.example', api_username: fh}}\n")
    assert main(["config", "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {cfg}: state_path ") and needle in err and err.count("\n") == 1
    assert "Errno" not in err


def test_state_path_is_checked_alongside_other_problems(tmp_path, capsys, secrets):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(f"state_path: {tmp_path}\nmode: loud\n")
    assert main(["config", "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "mode must be" in err and "is a directory; name a file" in err and "2 problems in" in err


def test_state_path_that_does_not_exist_yet_in_a_creatable_folder_is_fine(tmp_path, capsys, secrets):
    cfg = tmp_path / "farmhand.yaml"
    state = tmp_path / "new" / "deeper" / "state.sqlite3"
    cfg.write_text(f"state_path: {state}\ndiscourse: {{url: 'https://f.example', api_username: fh}}\n")
    assert main(["config", "check", "-c", str(cfg)]) == 0, capsys.readouterr().err
    assert not state.parent.exists()  # checking creates nothing


def test_config_path_that_is_a_directory_and_run_with_a_bad_state_folder_have_no_errno(
    tmp_path, capsys, secrets
):
    assert main(["config", "check", "-c", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path}: is a directory, not a config file\n"
    (tmp_path / "afile").write_text("x")
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(
        f"state_path: {tmp_path / 'afile' / 'state.sqlite3'}\n"
        "discourse: {url: 'http://127.0.0.1:9', api_username: fh}\n"
    )
    assert main(["run", "-c", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: state_path ") and "Errno" not in err and err.count("\n") == 1, err


def test_kb_check_counts_in_words(capsys):
    from pathlib import Path

    broken = Path(__file__).resolve().parents[1] / "fixtures" / "kb_broken" / "missing_field"
    assert main(["kb", "check", "--dir", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "(s)" not in err and (" 1 problem in " in f" {err}" or " problems in " in err)
    assert main(["kb", "check"]) == 0
    out = capsys.readouterr().out
    assert "(s)" not in out and " entries, " in out and " questions in " in out
