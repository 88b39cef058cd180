"""Reading Rasa's answer: what the customer is shown (text with optional buttons), and the custom payloads
the actions send to the gateway (bot/services/after_reply.py decides what they mean)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store.conversations import MessageRole
from bot.store.transcript import NewMessage
from bot.web.rasa_client import RasaReply


@dataclass(frozen=True)
class Answer:
    shown: list[dict[str, Any]]  # {"text": ..., "buttons": [...] or None}, in Rasa's order
    custom: list[dict[str, Any]]  # custom payloads, for the gateway

    @property
    def empty(self) -> bool:
        """Rasa answered, but said nothing: how a down (or failing) action server looks from the gateway."""
        return not self.shown and not self.custom

    def bot_messages(self, language: str) -> list[NewMessage]:
        return [
            NewMessage(role=MessageRole.BOT, text=m["text"], buttons=m["buttons"], language=language)
            for m in self.shown
        ]


def read_answer(reply: RasaReply) -> Answer:
    shown: list[dict[str, Any]] = []
    custom: list[dict[str, Any]] = []
    for message in reply.messages:
        if isinstance(message.get("custom"), dict):
            custom.append(message["custom"])
        body = message.get("text")
        buttons = _buttons(message.get("buttons"))
        if (isinstance(body, str) and body) or buttons:
            shown.append({"text": body if isinstance(body, str) else "", "buttons": buttons or None})
    return Answer(shown, custom)


def _buttons(raw: object) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": button["title"], "payload": button["payload"]}
        for button in raw
        if isinstance(button, dict) and isinstance(button.get("title"), str) and isinstance(button.get("payload"), str)
    ]
