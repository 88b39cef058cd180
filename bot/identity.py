"""Who is who: customers (an HS256 JWT the shop's page signs, claim `sub`) and staff (argon2 passwords)."""

from __future__ import annotations

import logging
import time

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.settings import get_settings

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
# Ids look like C-1001; anything else in `sub` is refused before it reaches a query.
_MAX_SUB_LENGTH = 20


def sign_customer_token(customer_id: str, ttl_seconds: int = 3600, secret: str | None = None) -> str:
    now = int(time.time())
    payload = {"sub": customer_id, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret or get_settings().identity_secret, algorithm=ALGORITHM)


def verify_customer_token(token: object, secret: str | None = None) -> str | None:
    """The customer id in a valid token, or None for anything else: never raises."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(
            token,
            secret or get_settings().identity_secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError as error:
        log.info("customer token refused: %s", type(error).__name__)
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
