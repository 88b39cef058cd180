"""Frames the relay sends to every socket of a conversation (docs/gateway-protocol.md): the widget shows
them, and an agent's console passes on the ones it needs (typing, state)."""

from __future__ import annotations

from typing import Any


def typing_frame(role: str, on: bool) -> dict[str, Any]:
    return {"type": "typing", "role": role, "on": on}


def state_frame(state: str) -> dict[str, Any]:
    """Who has the conversation now: "bot", "queued", "agent" or "closed" (ConversationState)."""
    return {"type": "state", "state": state}


def rating_request_frame(language: str) -> dict[str, Any]:
    """The conversation has ended: ask for a rating, worded by the widget in the conversation's language."""
    return {"type": "rating_request", "language": language}


def error_frame(
    code: str, message: str, client_id: str | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    """A refused frame; `retry_after` (whole seconds) says when a "rate_limited" one may be tried again."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame
