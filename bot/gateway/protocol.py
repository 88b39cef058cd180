"""The widget's frames (docs/gateway-protocol.md): parsing what the browser sends, building what it gets.

Everything from the browser is checked here for shape and type; nothing in a customer's text is
interpreted, anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.i18n import SUPPORTED_LANGUAGES
from bot.store.conversations import Message, MessageRole
from bot.store.models import as_utc

MAX_CLIENT_ID_CHARS = 64
MAX_TOKEN_CHARS = 4096
MAX_RESUME_SECRET_CHARS = 128


class FrameError(ValueError):
    """A frame the gateway refuses: `code` is the protocol's error code, `text_key` what the customer reads."""

    def __init__(
        self,
        code: str,
        detail: str,
        client_id: str | None = None,
        text_key: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id
        self.text_key = text_key or code
        self.retry_after = retry_after  # seconds, for "rate_limited"


@dataclass(frozen=True)
class Hello:
    conversation_id: str | None
    last_seq: int
    customer_token: str | None
    language: str | None
    # The secret the `welcome` of a guest's conversation carried: needed to resume it. Never logged.
    resume_secret: str | None = None


@dataclass(frozen=True)
class CustomerMessage:
    client_id: str
    text: str
    payload: str | None


@dataclass(frozen=True)
class Typing:
    on: bool


@dataclass(frozen=True)
class Rating:
    """The customer's answer to a rating_request: 1..5 and an optional comment."""

    rating: int
    comment: str | None


ClientFrame = Hello | CustomerMessage | Typing | Rating
MAX_RATING_COMMENT_CHARS = 1000


# JSON can carry half of a surrogate pair ("\ud83d": an emoji cut in two, by a length limit say), which no
# database can store (UTF-8 has no code for it): stored, it failed the turn, and the widget sent it again and
# again. The half becomes U+FFFD, the character that stands for one that could not be read.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(value: str) -> str:
    """`value` with any half of a surrogate pair replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", value)


def _optional_str(frame: dict[str, Any], key: str, max_chars: int) -> str | None:
    value = frame.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise FrameError("bad_frame", f"{key} must be a string of at most {max_chars} characters")
    return readable(value)


def _holds_nul(frame: object) -> bool:
    """A NUL character anywhere in the frame: in a string, a key, or a list or object inside it. Without
    recursion: a frame may nest as deep as json.loads lets it."""
    pending = [frame]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def parse_frame(raw: str, max_text_chars: int) -> ClientFrame:
    try:
        frame = json.loads(raw)
    except ValueError as error:
        raise FrameError("bad_frame", "not JSON") from error
    except RecursionError as error:  # "[[[[..." thousands deep fits in a frame; it failed the socket (the fuzzer)
        raise FrameError("bad_frame", "nested too deep") from error
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", "a frame is a JSON object")
    if _holds_nul(frame):
        # No one types a NUL, and PostgreSQL refuses one in text: stored, it failed the socket (the fuzzer).
        client_id = frame.get("client_id")
        named = isinstance(client_id, str) and "\x00" not in client_id and len(client_id) <= MAX_CLIENT_ID_CHARS
        raise FrameError("bad_frame", "a NUL character", client_id if named else None)
    kind = frame.get("type")
    if kind == "hello":
        last_seq = frame.get("last_seq", 0)
        if last_seq is None:
            last_seq = 0
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            raise FrameError("bad_frame", "last_seq must be a whole number >= 0")
        language = frame.get("language")
        return Hello(
            conversation_id=_optional_str(frame, "conversation_id", MAX_CLIENT_ID_CHARS),
            last_seq=last_seq,
            customer_token=_optional_str(frame, "customer_token", MAX_TOKEN_CHARS),
            language=language if language in SUPPORTED_LANGUAGES else None,
            resume_secret=_optional_str(frame, "resume_secret", MAX_RESUME_SECRET_CHARS),
        )
    if kind == "message":
        client_id = _optional_str(frame, "client_id", MAX_CLIENT_ID_CHARS)
        if client_id is None:
            raise FrameError("bad_frame", "a message needs a client_id")
        text = frame.get("text")
        if not isinstance(text, str):
            raise FrameError("bad_frame", "text must be a string", client_id)
        if len(text) > max_text_chars:
            raise FrameError("too_long", f"text longer than {max_text_chars} characters", client_id)
        try:
            payload = _optional_str(frame, "payload", max_text_chars)
        except FrameError as error:
            raise FrameError(error.code, error.detail, client_id, error.text_key) from error
        if not text.strip() and payload is None:
            raise FrameError("bad_frame", "empty message", client_id, text_key="empty")
        return CustomerMessage(client_id=client_id, text=readable(text), payload=payload)
    if kind == "typing":
        return Typing(on=bool(frame.get("on")))
    if kind == "rating":
        rating = frame.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise FrameError("bad_frame", "rating must be a whole number from 1 to 5")
        return Rating(rating=rating, comment=_optional_str(frame, "comment", MAX_RATING_COMMENT_CHARS))
    raise FrameError("bad_frame", "unknown frame type")  # the type itself is the browser's text: not logged


def welcome_frame(conversation_id: str, state: str, resume_secret: str | None = None) -> dict[str, Any]:
    """A new conversation's welcome carries its resume secret, the only time the gateway ever sends it."""
    frame: dict[str, Any] = {"type": "welcome", "conversation_id": conversation_id, "state": state}
    if resume_secret:
        frame["resume_secret"] = resume_secret
    return frame


def message_frame(message: Message) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "message",
        "seq": message.seq,
        "role": message.role,
        "text": message.text,
        "ts": as_utc(message.created_at).isoformat(),
    }
    if message.role == MessageRole.BOT:
        frame["buttons"] = message.buttons or []
    if message.role == MessageRole.AGENT and message.author:
        frame["author"] = message.author
    if message.role != MessageRole.CUSTOMER and message.language in SUPPORTED_LANGUAGES:
        # The language it is written in, the conversation's when it was said: the widget's own texts follow it
        # (a guest on a Norwegian page who writes English sees "Sending …", not "Sendes …"). A customer turn's
        # is only a guess when it is echoed, before NLU has read it.
        frame["language"] = message.language
    if message.client_id:
        frame["client_id"] = message.client_id
    return frame


def rating_saved_frame(already: bool = False) -> dict[str, Any]:
    """The conversation's rating is stored: to every socket of it, so each tab hides its rating box. `already`:
    the answer to a rating for a conversation that was rated before (in another tab, say); the first one stays."""
    frame: dict[str, Any] = {"type": "rating_saved"}
    if already:
        frame["already"] = True
    return frame
