"""A production start refuses demo secrets; development runs with them."""

import pytest

from bot.settings import Settings, SettingsError

STRONG = "x" * 40


def test_development_accepts_demo_defaults() -> None:
    Settings(env="development").check_production()


def test_production_refuses_demo_secrets() -> None:
    with pytest.raises(SettingsError, match="BOT_IDENTITY_SECRET still has its demo value"):
        Settings(env="production").check_production()


def test_production_refuses_short_secret() -> None:
    settings = Settings(env="production", identity_secret="short", rasa_jwt_secret=STRONG, session_secret=STRONG)
    with pytest.raises(SettingsError, match="at least 32"):
        settings.check_production()


def test_production_with_real_secrets_starts() -> None:
    Settings(
        env="production", identity_secret=STRONG, rasa_jwt_secret=STRONG + "a", session_secret=STRONG + "b"
    ).check_production()


def test_cli_refuses_production_start_with_demo_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from bot.settings import PROJECT_ROOT

    env = {"BOT_ENV": "production", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "actions", "--port", "15999"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Refusing a production start" in result.stderr


def test_production_refuses_a_fixed_clock() -> None:
    settings = Settings(
        env="production",
        identity_secret=STRONG,
        rasa_jwt_secret=STRONG + "a",
        session_secret=STRONG + "b",
        clock="2030-01-06T11:00:00+01:00",
    )
    with pytest.raises(SettingsError, match="BOT_CLOCK"):
        settings.check_production()
