"""action_session_context: the verified customer and the answer language, from metadata and text only.

The customer id comes only from the gateway channel's vouching (bot/rasa_channel.py, bot/identity.py): for
this conversation and this message, from a message whose input channel is "gateway". A customer token in
the metadata counts for nothing here: the channel checks it and never passes it on."""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.session import ActionSessionContext
from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, vouch_for_customer
from tests.actions.conftest import run_action, token
from tests.support import make_tracker

SENDER = "test-conversation"


def message(
    text: str,
    metadata: dict[str, Any],
    slots: dict[str, Any] | None = None,
    channel: str = GATEWAY_CHANNEL,
    message_id: str = "message-1",
) -> Tracker:
    """The tracker as the action server gets it: the latest message came through `channel`."""
    user = {"event": "user", "text": text, "input_channel": channel, "message_id": message_id, "metadata": metadata}
    tracker = make_tracker(text, slots=slots, metadata=metadata, events=[user], sender_id=SENDER)
    tracker.latest_message["message_id"] = message_id
    return tracker


def vouched(customer_id: str, sender: str = SENDER, message_id: str = "message-1") -> dict[str, Any]:
    return {VERIFIED_CUSTOMER: vouch_for_customer(sender, message_id, customer_id)}


def customer_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if event.get("name") == "customer_id"]


async def test_the_gateway_channels_vouching_sets_the_customer() -> None:
    tracker = message("hei", {**vouched("C-1001"), "language": "nb"}, slots={"language": None})
    _, events = await run_action(ActionSessionContext(), tracker)
    assert SlotSet("customer_id", "C-1001") in events
    assert SlotSet("language", "nb") in events


async def test_a_token_in_the_metadata_signs_no_one_in() -> None:
    """Rasa's plain REST channel passes its client's metadata on as it is: a token there is never read."""
    for channel in (GATEWAY_CHANNEL, "rest"):
        tracker = message("hei", {"customer_token": token("C-1001"), "language": "nb"}, channel=channel)
        _, events = await run_action(ActionSessionContext(), tracker)
        assert customer_events(events) == [], channel


async def test_a_vouching_from_another_channel_is_ignored() -> None:
    tracker = message("hei", vouched("C-1001"), channel="rest")
    _, events = await run_action(ActionSessionContext(), tracker)
    assert customer_events(events) == []


async def test_a_vouching_for_another_message_or_conversation_is_ignored() -> None:
    for metadata in (vouched("C-1001", message_id="message-0"), vouched("C-1001", sender="another-conversation")):
        tracker = message("hei", metadata, slots={"customer_id": "C-1001"})
        _, events = await run_action(ActionSessionContext(), tracker)
        assert SlotSet("customer_id", None) in events


async def test_a_claimed_customer_id_signs_the_customer_out() -> None:
    forged = {VERIFIED_CUSTOMER: {"id": "C-1002", "proof": vouched("C-1001")[VERIFIED_CUSTOMER]["proof"]}}
    for metadata in (forged, {VERIFIED_CUSTOMER: "C-1002"}, {"customer_id": "C-1002"}, {}):
        tracker = message("hello", metadata, slots={"customer_id": "C-1001"})
        _, events = await run_action(ActionSessionContext(), tracker)
        assert SlotSet("customer_id", None) in events, metadata


async def test_metadata_of_the_wrong_shape_is_ignored() -> None:
    tracker = message("hello", {VERIFIED_CUSTOMER: ["C-1001"], "language": 7}, slots={"language": "en"})
    _, events = await run_action(ActionSessionContext(), tracker)
    assert all(event.get("name") != "customer_id" or event.get("value") is None for event in events)


async def test_clear_english_switches_a_norwegian_conversation() -> None:
    tracker = make_tracker("Where is my order, please?", slots={"language": "nb"})
    _, events = await run_action(ActionSessionContext(), tracker)
    assert SlotSet("language", "en") in events
