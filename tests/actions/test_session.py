"""action_session_context on the action server, for Rasa run as shipped: the same slots as Varde's Rasa
server sets in its own process (tests/store/test_session_context.py has the rules)."""

from rasa_sdk.events import SlotSet

from actions.session import ActionSessionContext
from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, vouch_for_customer
from tests.actions.conftest import run_action
from tests.support import make_tracker


async def test_the_action_servers_copy_sets_customer_and_language() -> None:
    metadata = {VERIFIED_CUSTOMER: vouch_for_customer("conv-1", "message-1", "C-1003"), "language": "nb"}
    user = {"event": "user", "text": "hej", "input_channel": GATEWAY_CHANNEL, "message_id": "message-1"}
    tracker = make_tracker("hej", slots={"language": None}, metadata=metadata, events=[user], sender_id="conv-1")
    tracker.latest_message["message_id"] = "message-1"
    _, events = await run_action(ActionSessionContext(), tracker)
    assert events == [SlotSet("customer_id", "C-1003"), SlotSet("language", "sv")]
