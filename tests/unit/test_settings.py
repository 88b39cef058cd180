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


def test_production_with_real_secrets_starts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("bot.rasa_channel.GatewayInput:\n")  # production's: no `rest:` (see below)
    Settings(
        env="production", identity_secret=STRONG, rasa_jwt_secret=STRONG + "a", session_secret=STRONG + "b",
        rasa_credentials=credentials,
    ).check_production()  # fmt: skip


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


# --- issue 16: Rasa's unauthenticated REST channel in production ------------------------------------
def _production(**changes: object) -> Settings:
    return Settings(
        env="production", identity_secret=STRONG, rasa_jwt_secret=STRONG + "a", session_secret=STRONG + "b", **changes
    )


def test_production_refuses_the_rest_channel_in_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    credentials = tmp_path / "credentials.yml"
    for text in ("rest:\n\nbot.rasa_channel.GatewayInput:\n", "rasa.core.channels.rest.RestInput:\n", "callback:\n"):
        credentials.write_text(text)
        with pytest.raises(SettingsError, match=r"credentials\.yml.*BOT_ALLOW_REST_CHANNEL"):
            _production(rasa_credentials=credentials).check_production()
        _production(rasa_credentials=credentials, allow_rest_channel=True).check_production()  # said so
        Settings(env="development", rasa_credentials=credentials).check_production()  # development: fine
    credentials.write_text("# only the gateway's channel\nbot.rasa_channel.GatewayInput:\n")
    _production(rasa_credentials=credentials).check_production()


def test_the_projects_own_credentials_carry_rest_so_production_must_say_so() -> None:
    """The repository's credentials.yml keeps `rest:` for development and tests: a production start
    from it refuses until the operator removes it or sets BOT_ALLOW_REST_CHANNEL=1."""
    with pytest.raises(SettingsError, match="rest"):
        _production().check_production()


@pytest.mark.parametrize("env", ["prod", "Production", "staging", "test"])
def test_an_unknown_environment_is_refused_not_taken_for_development(env: str) -> None:
    with pytest.raises(SettingsError, match=f"BOT_ENV must be development or production, not '{env}'"):
        Settings(env=env)


def test_production_refuses_one_secret_for_two_purposes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("bot.rasa_channel.GatewayInput:\n")
    settings = Settings(env="production", identity_secret=STRONG, rasa_jwt_secret=STRONG + "a",
                        session_secret=STRONG, rasa_credentials=credentials)  # fmt: skip
    with pytest.raises(SettingsError, match="must differ"):
        settings.check_production()


def test_production_refuses_a_short_metrics_token(tmp_path) -> None:  # type: ignore[no-untyped-def]
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("bot.rasa_channel.GatewayInput:\n")
    real = {"identity_secret": STRONG, "rasa_jwt_secret": STRONG + "a", "session_secret": STRONG + "b"}
    with pytest.raises(SettingsError, match="BOT_METRICS_TOKEN must be at least 32"):
        Settings(env="production", metrics_token="scrape", rasa_credentials=credentials, **real).check_production()
    Settings(env="production", metrics_token="m" * 32, rasa_credentials=credentials, **real).check_production()
