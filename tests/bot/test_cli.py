"""The command-line contract: `farmhand config check`, usage errors, and lazy imports."""

import subprocess
import sys

from bot.cli import main

GOOD = "state_path: {state}\ndiscourse:\n  url: https://forum.example.org\n  api_username: farmhand\n"


def test_config_check_ok_names_mode_platforms_and_state(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(GOOD.format(state=tmp_path / "s.sqlite3"))
    monkeypatch.setenv("FARMHAND_DISCOURSE_API_KEY", "x" * 32)
    assert main(["config", "check", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and "platforms discourse" in out and "x" * 32 not in out


def test_config_check_missing_secret_is_one_line_naming_the_variable(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(GOOD.format(state=tmp_path / "s.sqlite3"))
    monkeypatch.delenv("FARMHAND_DISCOURSE_API_KEY", raising=False)
    assert main(["config", "check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "FARMHAND_DISCOURSE_API_KEY" in err and "\n" not in err


def test_config_check_without_any_platform_is_an_error(tmp_path, capsys):
    cfg = tmp_path / "farmhand.yaml"
    cfg.write_text(f"state_path: {tmp_path / 's.sqlite3'}\n")
    assert main(["config", "check", "-c", str(cfg)]) == 2
    assert "configure at least one of discourse, discord" in capsys.readouterr().err


def test_no_command_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: farmhand" in capsys.readouterr().err


def test_fast_commands_load_no_platform_code():
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "main(['ask', 'can I farm in a vm?'])\n"
        "bad = [m for m in ('discord', 'pydiscourse', 'aiohttp', 'bot.core.engine') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "LOADED []" in out
