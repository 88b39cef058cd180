"""Who is who: customers (an HS256 JWT the shop's page signs) and staff (argon2 passwords).

A customer token counts only with all of: `sub` (the customer id), `iss` = BOT_CUSTOMER_TOKEN_ISSUER
(the shop's site signed it), `aud` = BOT_CUSTOMER_TOKEN_AUDIENCE (it was signed for this chat, not for
another service that shares the secret), `iat` and `exp`, with `exp - iat` at most
BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS: a long-lived token that leaked is refused even before it expires.
"""

from __future__ import annotations

import logging
import math
import time

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.settings import get_settings

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]
# Clocks of the shop's site and ours may differ a little: `iat` this far ahead of us still counts.
CLOCK_SKEW_SECONDS = 30
# Ids look like C-1001; anything else in `sub` is refused before it reaches a query.
_MAX_SUB_LENGTH = 20


def sign_customer_token(customer_id: str, ttl_seconds: int = 3600, secret: str | None = None) -> str:
    """A token as the shop's site signs it (the demo endpoint and `python -m bot token` use this)."""
    settings = get_settings()
    if not 0 < ttl_seconds <= settings.customer_token_max_lifetime_seconds:
        raise ValueError(
            f"a customer token's lifetime is 1..{settings.customer_token_max_lifetime_seconds} s "
            f"(BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS), not {ttl_seconds}"
        )
    now = int(time.time())
    payload = {
        "sub": customer_id,
        "iss": settings.customer_token_issuer,
        "aud": settings.customer_token_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(payload, secret or settings.identity_secret, algorithm=ALGORITHM)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def verify_customer_token(token: object, secret: str | None = None) -> str | None:
    """The customer id in a valid token, or None for anything else: never raises."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            secret or settings.identity_secret,
            algorithms=[ALGORITHM],
            audience=settings.customer_token_audience,
            issuer=settings.customer_token_issuer,
            # `exp` strictly; `iat` below, with room for the shop's clock being a little ahead of ours.
            options={"require": REQUIRED_CLAIMS, "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        log.info("customer token refused: %s", type(error).__name__)
        return None
    issued, expires = claims["iat"], claims["exp"]
    if not (_is_number(issued) and _is_number(expires)) or issued > time.time() + CLOCK_SKEW_SECONDS:
        log.info("customer token refused: iat or exp not a number, or iat in the future")
        return None
    lifetime = expires - issued
    if not 0 < lifetime <= settings.customer_token_max_lifetime_seconds:
        log.info("customer token refused: a lifetime of %d s", lifetime)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > _MAX_SUB_LENGTH:
        return None
    return subject


# --- staff passwords ----------------------------------------------------------------------------
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: object) -> bool:
    """True only for the right password; never raises on garbage."""
    if not isinstance(password, str) or not password or len(password) > 1024:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
