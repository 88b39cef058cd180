"""Who is who: customers (an HS256 JWT the shop's page signs) and staff (argon2 passwords).

A customer token counts only with all of: `sub` (the customer id), `iss` = BOT_CUSTOMER_TOKEN_ISSUER
(the shop's site signed it), `aud` = BOT_CUSTOMER_TOKEN_AUDIENCE (it was signed for this chat, not for
another service that shares the secret), `iat` and `exp`, with `exp - iat` at most
BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS: a long-lived token that leaked is refused even before it expires.

Only the gateway's Rasa channel (bot/rasa_channel.py) checks a customer's token; the token itself goes no
further, so it never sits in Rasa's tracker store. The channel vouches for the customer id instead
(`vouch_for_customer`): an HMAC, keyed from BOT_IDENTITY_SECRET, over the conversation, the message's id
and the customer id. The action server believes an id only with that (`vouched_customer`), so metadata a
client makes up, through any channel, names no one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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


# --- the gateway channel's word for a customer -----------------------------------------------------
# The name of the gateway's channel (bot/rasa_channel.py), as Rasa stores it as a message's input channel.
GATEWAY_CHANNEL = "gateway"
# The metadata key under which that channel passes on the customer it verified: {"id", "proof"}.
VERIFIED_CUSTOMER = "verified_customer"
# Keeps the vouching's key apart from anything else BOT_IDENTITY_SECRET signs (customer tokens).
_VOUCHING_PURPOSE = b"varde: the gateway channel verified this customer's token for this message"


def _vouching_proof(conversation_id: str, message_id: str, customer_id: str, secret: str | None) -> str:
    key = hmac.new((secret or get_settings().identity_secret).encode(), _VOUCHING_PURPOSE, hashlib.sha256).digest()
    signed = json.dumps([conversation_id, message_id, customer_id]).encode()
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def vouch_for_customer(
    conversation_id: str, message_id: str, customer_id: str, secret: str | None = None
) -> dict[str, str]:
    """What the gateway channel passes on, for one message, once it has verified the customer's token.

    Bound to the conversation and the message (Rasa's message id, new for every message), so a copy taken
    from the tracker store names no one in another conversation or with another message.
    """
    return {"id": customer_id, "proof": _vouching_proof(conversation_id, message_id, customer_id, secret)}


def vouched_customer(
    conversation_id: object, message_id: object, vouching: object, secret: str | None = None
) -> str | None:
    """The customer id the gateway channel vouched for in this message, or None for anything else: never raises."""
    if not (isinstance(conversation_id, str) and isinstance(message_id, str) and isinstance(vouching, dict)):
        return None
    customer_id, proof = vouching.get("id"), vouching.get("proof")
    if not (isinstance(customer_id, str) and customer_id and isinstance(proof, str) and proof):
        return None
    expected = _vouching_proof(conversation_id, message_id, customer_id, secret)
    if not hmac.compare_digest(expected.encode(), proof.encode()):
        return None
    return customer_id


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
