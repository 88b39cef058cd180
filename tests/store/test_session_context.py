"""The session context (bot/session_context.py): the verified customer and the answer language, from the
latest message's metadata and text, and the customer's stored language on a conversation's first message.

The customer id comes only from the gateway channel's vouching (bot/rasa_channel.py, bot/identity.py): for
this conversation and this message, from a message whose input channel is "gateway". A customer token in
the metadata counts for nothing here: the channel checks it and never passes it on. The Rasa server runs
this for every message (bot/rasa_main.py); tests/gateway/test_channel_security.py shows it through Rasa."""

from typing import Any

import pytest

from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, sign_customer_token, vouch_for_customer
from bot.session_context import LatestMessage, session_slots

SENDER = "test-conversation"


@pytest.fixture(autouse=True)
def _fresh_shop(shop: str) -> str:
    return shop


def message(
    text: str,
    metadata: dict[str, Any],
    language: str | None = "en",
    customer_id: str | None = None,
    channel: str = GATEWAY_CHANNEL,
    message_id: str = "message-1",
) -> LatestMessage:
    return LatestMessage(SENDER, channel, message_id, metadata, text, language, customer_id)


def vouched(customer_id: str, sender: str = SENDER, message_id: str = "message-1") -> dict[str, Any]:
    return {VERIFIED_CUSTOMER: vouch_for_customer(sender, message_id, customer_id)}


async def test_the_gateway_channels_vouching_sets_the_customer() -> None:
    slots = await session_slots(message("hei", {**vouched("C-1001"), "language": "nb"}, language=None))
    assert slots == {"customer_id": "C-1001", "language": "nb"}


async def test_a_signed_in_customers_stored_language_comes_before_the_pages() -> None:
    """C-1003 is Swedish (shop.yml): a short first message on a Norwegian page is answered in Swedish."""
    slots = await session_slots(message("hej", {**vouched("C-1003"), "language": "nb"}, language=None))
    assert slots == {"customer_id": "C-1003", "language": "sv"}


async def test_a_token_in_the_metadata_signs_no_one_in() -> None:
    """Rasa's plain REST channel passes its client's metadata on as it is: a token there is never read."""
    for channel in (GATEWAY_CHANNEL, "rest"):
        metadata = {"customer_token": sign_customer_token("C-1001"), "language": "nb"}
        slots = await session_slots(message("hei", metadata, channel=channel))
        assert "customer_id" not in slots, channel


async def test_a_vouching_from_another_channel_is_ignored() -> None:
    assert "customer_id" not in await session_slots(message("hei", vouched("C-1001"), channel="rest"))


async def test_a_vouching_for_another_message_or_conversation_is_ignored() -> None:
    for metadata in (vouched("C-1001", message_id="message-0"), vouched("C-1001", sender="another-conversation")):
        slots = await session_slots(message("hei", metadata, customer_id="C-1001"))
        assert slots["customer_id"] is None


async def test_a_claimed_customer_id_signs_the_customer_out() -> None:
    forged = {VERIFIED_CUSTOMER: {"id": "C-1002", "proof": vouched("C-1001")[VERIFIED_CUSTOMER]["proof"]}}
    for metadata in (forged, {VERIFIED_CUSTOMER: "C-1002"}, {"customer_id": "C-1002"}, {}):
        slots = await session_slots(message("hello", metadata, customer_id="C-1001"))
        assert slots["customer_id"] is None, metadata


async def test_metadata_of_the_wrong_shape_is_ignored() -> None:
    slots = await session_slots(message("hello", {VERIFIED_CUSTOMER: ["C-1001"], "language": 7}))
    assert slots == {}


async def test_clear_english_switches_a_norwegian_conversation() -> None:
    assert await session_slots(message("Where is my order, please?", {}, language="nb")) == {"language": "en"}


async def test_a_short_answer_keeps_the_conversations_language() -> None:
    assert await session_slots(message("ok takk", {"language": "en"}, language="sv")) == {}
