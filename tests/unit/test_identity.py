"""Customer tokens: only a valid, unexpired, untampered HS256 token with a `sub` identifies a customer."""

import time

import jwt
import pytest

from bot.identity import sign_customer_token, verify_customer_token
from bot.settings import get_settings


def test_valid_token_gives_the_customer_id() -> None:
    assert verify_customer_token(sign_customer_token("C-1001")) == "C-1001"


def test_expired_token_is_not_signed_in() -> None:
    token = jwt.encode({"sub": "C-1001", "exp": int(time.time()) - 10}, get_settings().identity_secret, "HS256")
    assert verify_customer_token(token) is None


def test_token_signed_with_another_secret_is_refused() -> None:
    token = sign_customer_token("C-1001", secret="someone-elses-secret-that-is-long-enough-0123")
    assert verify_customer_token(token) is None


def test_tampered_payload_is_refused() -> None:
    header, _, signature = sign_customer_token("C-1001").split(".")
    forged = jwt.utils.base64url_encode(b'{"sub":"C-1002","exp":9999999999}').decode()
    assert verify_customer_token(f"{header}.{forged}.{signature}") is None


def test_token_without_exp_is_refused() -> None:
    token = jwt.encode({"sub": "C-1001"}, get_settings().identity_secret, "HS256")
    assert verify_customer_token(token) is None


def test_alg_none_is_refused() -> None:
    token = jwt.encode({"sub": "C-1001", "exp": int(time.time()) + 60}, key=None, algorithm="none")
    assert verify_customer_token(token) is None


@pytest.mark.parametrize("garbage", [None, "", "not a token", 42, {"sub": "C-1001"}, "a.b.c", "x" * 10_000, "\x00\xff"])
def test_garbage_never_raises(garbage: object) -> None:
    assert verify_customer_token(garbage) is None


# --- issue 16: who signed the token, for whom, and for how long --------------------------------------
def claims(**changes: object) -> dict[str, object]:
    """A good token's claims (the shop's issuer, our audience, an hour), with `changes`; None drops one."""
    settings = get_settings()
    now = int(time.time())
    good: dict[str, object] = {
        "sub": "C-1001",
        "iss": settings.customer_token_issuer,
        "aud": settings.customer_token_audience,
        "iat": now,
        "exp": now + 3600,
    }
    good.update(changes)
    return {name: value for name, value in good.items() if value is not None}


def signed(**changes: object) -> str:
    return jwt.encode(claims(**changes), get_settings().identity_secret, "HS256")


def test_a_token_with_issuer_audience_and_a_short_lifetime_passes() -> None:
    assert verify_customer_token(signed()) == "C-1001"


def test_our_own_signing_names_issuer_and_audience() -> None:
    settings = get_settings()
    decoded = jwt.decode(
        sign_customer_token("C-1001"),
        settings.identity_secret,
        algorithms=["HS256"],
        audience=settings.customer_token_audience,
        issuer=settings.customer_token_issuer,
    )
    assert decoded["exp"] - decoded["iat"] == 3600


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": None}, id="no-aud"),
        pytest.param({"iss": None}, id="no-iss"),
        pytest.param({"aud": "another-service"}, id="wrong-aud"),
        pytest.param({"aud": ["another-service", "yet-another"]}, id="wrong-aud-list"),
        pytest.param({"iss": "someone-else"}, id="wrong-iss"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"iat": "yesterday"}, id="iat-not-a-number"),
        # Signed for a year (the attack: a token leaked from a log or a tracker store works for months).
        pytest.param({"exp": int(time.time()) + 365 * 86400}, id="a-year"),
        # Just over the cap, with iat in the past so the token is otherwise still valid.
        pytest.param(
            {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 3600 + 24 * 3600 + 60}, id="just-over-the-cap"
        ),
        pytest.param({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, id="issued-in-the-future"),
        pytest.param({"exp": int(time.time()) - 10, "iat": int(time.time()) - 70}, id="expired"),
    ],
)
def test_tokens_without_the_right_issuer_audience_or_lifetime_are_refused(changes: dict[str, object]) -> None:
    assert verify_customer_token(signed(**changes)) is None


def test_the_lifetime_cap_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    two_days = signed(iat=now, exp=now + 2 * 86400)
    assert verify_customer_token(two_days) is None
    monkeypatch.setenv("BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS", str(3 * 86400))
    get_settings.cache_clear()
    try:
        assert verify_customer_token(two_days) == "C-1001"
    finally:
        monkeypatch.delenv("BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS")
        get_settings.cache_clear()


def test_signing_refuses_a_lifetime_over_the_cap() -> None:
    with pytest.raises(ValueError, match="lifetime"):
        sign_customer_token("C-1001", ttl_seconds=2 * 86400)


@pytest.mark.parametrize(
    "changes",
    [{"exp": str(int(time.time()) + 60)}, {"iat": True}, {"iat": float("nan")}, {"exp": 1e400}, {"iat": [1]}],
)
def test_odd_claim_types_are_refused_without_raising(changes: dict[str, object]) -> None:
    assert verify_customer_token(signed(**changes)) is None
