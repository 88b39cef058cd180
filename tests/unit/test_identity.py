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
