"""Calling rasa_sdk actions directly, against the seeded demo shop."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.identity import sign_customer_token


@pytest.fixture(autouse=True)
def _fresh_shop(shop: str) -> str:
    return shop


async def run_action(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(messages the action dispatched, events it returned)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages if m.get("response")]


def token(customer_id: str) -> str:
    return sign_customer_token(customer_id)
