"""action_session_context on the action server: for Rasa run as shipped (`python -m rasa run`, the
benchmark's baseline). Varde's Rasa server runs the same code in its own process and never calls this
(bot/session_context.py, bot/rasa_main.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import customer_of, latest_metadata, latest_text
from bot.session_context import SESSION_CONTEXT_ACTION, LatestMessage, session_slots


class ActionSessionContext(Action):
    """Custom slot mapping for `customer_id` and `language` (run by action_extract_slots)."""

    def name(self) -> str:
        return SESSION_CONTEXT_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = tracker.get_slot("language")
        message = LatestMessage(
            conversation_id=tracker.sender_id,
            input_channel=tracker.get_latest_input_channel(),
            message_id=tracker.latest_message.get("message_id"),
            metadata=latest_metadata(tracker),
            text=latest_text(tracker),
            language=language if isinstance(language, str) else None,
            customer_id=customer_of(tracker),
        )
        return [SlotSet(name, value) for name, value in (await session_slots(message)).items()]
