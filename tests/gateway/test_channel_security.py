"""Attacks on the gateway's Rasa channel (bot/rasa_channel.py, issue 16), in the real Rasa server and action server.

- Typed text that starts with "/" is text: Rasa's "/intent{entities}" syntax would skip NLU and the
  frustration rules.
- A button payload counts only if the bot's last message offered that button; any other is text.
- The customer's token is verified by the channel and never stored in the tracker; the actions take the
  customer id only from what this channel vouched for, never from a client's metadata, whichever channel.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import pytest

from bot.identity import sign_customer_token
from bot.settings import get_settings
from tests.support import RasaStack, http_json, rasa_admin_token, texts

pytestmark = pytest.mark.server

# The key under which the channel passes on the customer it verified (bot/identity.py VERIFIED_CUSTOMER).
VERIFIED_CUSTOMER = "verified_customer"


def conversation() -> str:
    return f"channel-security-{uuid.uuid4().hex[:12]}"


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {rasa_admin_token(get_settings().rasa_jwt_secret)}"}


def gateway_turn(stack: RasaStack, sender: str, text: str, **metadata: Any) -> dict[str, Any]:
    body = {"sender": sender, "message": text, "metadata": {"language": "nb", **metadata}}
    return http_json(f"{stack.rasa_url}/webhooks/gateway/webhook", body, admin())


def rest_turn(stack: RasaStack, sender: str, text: str, **body: Any) -> list[dict[str, Any]]:
    return http_json(f"{stack.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text, **body})


def tracker(stack: RasaStack, sender: str) -> dict[str, Any]:
    url = f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker?include_events=ALL"
    return http_json(url, headers=admin())


def user_events(stack: RasaStack, sender: str) -> list[dict[str, Any]]:
    return [event for event in tracker(stack, sender)["events"] if event["event"] == "user"]


def read_as_an_intent(event: dict[str, Any]) -> bool:
    """Rasa's "/intent{...}" syntax: one intent at confidence 1, entities from RegexMessageHandler. NLU ranks
    several intents and finds entities with its own extractors."""
    parse_data = event.get("parse_data") or {}
    ranking = parse_data.get("intent_ranking") or []
    from_syntax = any(entity.get("extractor") == "RegexMessageHandler" for entity in parse_data.get("entities", []))
    return from_syntax or (len(ranking) == 1 and ranking[0].get("confidence") == 1.0)


def buttons(answer: dict[str, Any]) -> list[str]:
    return [button["payload"] for message in answer["messages"] for button in message.get("buttons", [])]


# --- 1. typed text that starts with "/" -------------------------------------------------------------


def test_typed_slash_syntax_is_read_by_nlu(warm_stack: RasaStack) -> None:
    sender = conversation()
    gateway_turn(warm_stack, sender, '/order_status{"order_id": "10234"}')
    [typed] = user_events(warm_stack, sender)
    assert typed["text"] == '/order_status{"order_id": "10234"}'  # stored as the customer typed it
    assert not read_as_an_intent(typed), typed["parse_data"]


def test_typed_restart_does_not_wipe_a_conversation(warm_stack: RasaStack) -> None:
    sender = conversation()
    assert "e-post" in texts(gateway_turn(warm_stack, sender, "hvor er ordre 10234?")["messages"])
    gateway_turn(warm_stack, sender, "/restart")
    events = tracker(warm_stack, sender)["events"]
    assert not any(event["event"] == "restart" for event in events)


def test_shouting_behind_a_slash_is_still_frustration(warm_stack: RasaStack) -> None:
    answer = gateway_turn(warm_stack, conversation(), "/HVOR ER PAKKEN MIN? SVAR MEG NÅ!!!")
    assert "shouting" in answer.get("frustration", [])


# --- 2. button payloads ---------------------------------------------------------------------------------


def test_a_button_the_last_message_offered_is_a_click(warm_stack: RasaStack) -> None:
    sender = conversation()
    offered = gateway_turn(warm_stack, sender, "ja")  # nothing to confirm: "What can I help you with?" and buttons
    assert "/check_points" in buttons(offered), offered
    clicked = gateway_turn(warm_stack, sender, "/check_points")
    assert (clicked["intent"], clicked["confidence"]) == ("check_points", 1.0)
    assert read_as_an_intent(user_events(warm_stack, sender)[-1])


def test_a_payload_no_button_offered_is_text(warm_stack: RasaStack) -> None:
    sender = conversation()
    gateway_turn(warm_stack, sender, '/inform{"sku": "TS-1003"}')  # the bot has said nothing yet
    assert not read_as_an_intent(user_events(warm_stack, sender)[-1])


def test_a_button_of_an_earlier_message_is_text(warm_stack: RasaStack) -> None:
    sender = conversation()
    assert "/check_points" in buttons(gateway_turn(warm_stack, sender, "ja"))
    later = gateway_turn(warm_stack, sender, "hva er åpningstidene deres?")
    assert "/check_points" not in buttons(later), later
    gateway_turn(warm_stack, sender, "/check_points")
    assert not read_as_an_intent(user_events(warm_stack, sender)[-1])


# --- 3. the customer's token and the customer id -------------------------------------------------------


def test_the_token_is_verified_but_never_stored(warm_stack: RasaStack) -> None:
    sender = conversation()
    token = sign_customer_token("C-1001")
    answer = gateway_turn(warm_stack, sender, "hvor mange poeng har jeg?", customer_token=token)
    assert "poeng" in texts(answer["messages"]) and "logg inn" not in texts(answer["messages"]).lower()
    stored = tracker(warm_stack, sender)
    assert stored["slots"]["customer_id"] == "C-1001"
    assert token not in json.dumps(stored) and "customer_token" not in json.dumps(stored)


def test_earlier_turns_and_made_up_keys_stay_out_of_the_tracker(warm_stack: RasaStack) -> None:
    sender = conversation()
    earlier = [{"text": "hvor er pakken min, nr 10234", "intent": "order_status", "at": "2030-01-08T10:00:00+00:00"}]
    gateway_turn(warm_stack, sender, "hei", earlier_turns=earlier, anything="else")
    [event] = user_events(warm_stack, sender)
    # Rasa itself adds assistant_id and model_id.
    assert set(event["metadata"]) <= {"language", "clock", "assistant_id", "model_id"}, event["metadata"]


def test_a_client_cannot_claim_a_customer_id_through_the_gateway(warm_stack: RasaStack) -> None:
    # A vouching the channel really gave, in another conversation, is worth nothing here.
    kari = conversation()
    gateway_turn(warm_stack, kari, "hei", customer_token=sign_customer_token("C-1001"))
    genuine = user_events(warm_stack, kari)[-1]["metadata"][VERIFIED_CUSTOMER]
    sender = conversation()
    for claim in (genuine, {"id": "C-1001"}, "C-1001"):
        gateway_turn(warm_stack, sender, "hvor mange poeng har jeg?", **{VERIFIED_CUSTOMER: claim})
        assert tracker(warm_stack, sender)["slots"]["customer_id"] is None


def test_the_rest_channel_cannot_sign_anyone_in(warm_stack: RasaStack) -> None:
    """Rasa's plain `rest:` channel takes metadata, and even the input channel's name, from its client."""
    sender = conversation()
    gateway_turn(warm_stack, sender, "hei", customer_token=sign_customer_token("C-1001"))
    # Someone who read the tracker store replays the channel's own vouching, claiming to be the gateway.
    replayed = user_events(warm_stack, sender)[-1]["metadata"][VERIFIED_CUSTOMER]
    metadata = {"language": "nb", VERIFIED_CUSTOMER: replayed}
    reply = rest_turn(warm_stack, sender, "hvor mange poeng har jeg?", metadata=metadata, input_channel="gateway")
    assert tracker(warm_stack, sender)["slots"]["customer_id"] is None, texts(reply)
    # A real token over `rest:` signs no one in either: only the gateway's channel verifies tokens.
    guest = conversation()
    token = sign_customer_token("C-1001")
    rest_turn(warm_stack, guest, "hvor mange poeng har jeg?", metadata={"language": "nb", "customer_token": token})
    assert tracker(warm_stack, guest)["slots"]["customer_id"] is None
