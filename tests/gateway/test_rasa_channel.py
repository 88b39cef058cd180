"""Rasa's gateway channel (bot/rasa_channel.py), in the real Rasa server beside the REST channel."""

from __future__ import annotations

import urllib.error

import pytest

from bot.identity import sign_customer_token
from bot.settings import get_settings
from tests.support import RasaStack, http_json, rasa_admin_token, texts

pytestmark = pytest.mark.server


def gateway_turn(stack: RasaStack, sender: str, text: str, token: str | None, **metadata: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"sender": sender, "message": text, "metadata": metadata}
    return http_json(f"{stack.rasa_url}/webhooks/gateway/webhook", body, headers)


def test_replies_come_with_intent_confidence_and_language(warm_stack: RasaStack) -> None:
    token = rasa_admin_token(get_settings().rasa_jwt_secret)
    kari = sign_customer_token("C-1001")
    answer = gateway_turn(warm_stack, "channel-1", "hvor er ordre 10234?", token, language="nb", customer_token=kari)
    assert "70712345678901234" in texts(answer["messages"])
    assert answer["intent"] == "order_status" and 0.5 < answer["confidence"] <= 1
    assert answer["language"] == "nb"
    english = gateway_turn(warm_stack, "channel-1", "thanks a lot, that was all I needed", token, language="nb")
    assert (english["intent"], english["language"]) == ("thanks", "en")


WRONG_SECRET = "another-secret-than-the-one-rasa-was-started-with"


@pytest.mark.parametrize("token", [None, "not-a-jwt", rasa_admin_token(WRONG_SECRET)])
def test_the_channel_needs_rasas_jwt(warm_stack: RasaStack, token: str | None) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        gateway_turn(warm_stack, "channel-2", "hei", token)
    assert refused.value.code == 401


def test_the_rest_channel_still_answers_without_a_token(warm_stack: RasaStack) -> None:
    assert texts(warm_stack.chat("channel-3", "hva er åpningstidene?"))
