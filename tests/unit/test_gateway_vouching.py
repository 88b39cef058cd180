"""The gateway channel's word for a customer (bot/identity.py) and what the channel hands to the dialogue
(bot/rasa_channel.py): the customer's token is checked there and never passed on; the customer id reaches
the actions only with the channel's HMAC over the conversation and the message."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.identity import VERIFIED_CUSTOMER, sign_customer_token, vouch_for_customer, vouched_customer
from bot.rasa_channel import as_text, dialogue_metadata, offered_payloads, slash_syntax


def test_a_vouching_names_the_customer_for_that_conversation_and_message_only() -> None:
    vouching = vouch_for_customer("conv-1", "msg-1", "C-1001")
    assert vouched_customer("conv-1", "msg-1", vouching) == "C-1001"
    assert vouched_customer("conv-2", "msg-1", vouching) is None  # another conversation
    assert vouched_customer("conv-1", "msg-2", vouching) is None  # replayed with another message


def test_a_made_up_or_altered_vouching_counts_for_nothing() -> None:
    genuine = vouch_for_customer("conv-1", "msg-1", "C-1001")
    other_secret = vouch_for_customer("conv-1", "msg-1", "C-1001", secret="not-our-secret-but-long-enough-0123456")
    for claim in (
        {**genuine, "id": "C-1002"},
        other_secret,
        {"id": "C-1001"},
        {"id": "C-1001", "proof": ""},
        {"id": "C-1001", "proof": 7},
        "C-1001",
        None,
        ["C-1001", genuine["proof"]],
    ):
        assert vouched_customer("conv-1", "msg-1", claim) is None, claim
    assert vouched_customer("conv-1", None, genuine) is None
    assert vouched_customer(None, "msg-1", genuine) is None


def test_the_vouching_is_no_customer_token() -> None:
    from bot.identity import verify_customer_token

    assert verify_customer_token(vouch_for_customer("conv-1", "msg-1", "C-1001")["proof"]) is None


def test_the_dialogue_gets_the_verified_customer_but_never_the_token() -> None:
    token = sign_customer_token("C-1001")
    metadata = dialogue_metadata(
        "conv-1",
        "msg-1",
        {"language": "nb", "customer_token": token, "earlier_turns": [{"text": "hei"}], "clock": "x", "other": 1},
    )
    assert set(metadata) == {"language", "clock", VERIFIED_CUSTOMER}
    assert vouched_customer("conv-1", "msg-1", metadata[VERIFIED_CUSTOMER]) == "C-1001"
    assert token not in repr(metadata)


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", sign_customer_token("C-1001")[:-4] + "AAAA"])
def test_no_valid_token_no_customer(token: str | None) -> None:
    assert dialogue_metadata("conv-1", "msg-1", {"language": "nb", "customer_token": token}) == {"language": "nb"}


def test_a_client_cannot_hand_in_its_own_vouching() -> None:
    forged = vouch_for_customer("conv-1", "msg-1", "C-1001")  # even a genuine one, copied from the store
    assert dialogue_metadata("conv-1", "msg-1", {VERIFIED_CUSTOMER: forged}) == {}


def test_odd_metadata_gives_an_empty_dict() -> None:
    assert dialogue_metadata("conv-1", "msg-1", None) == {}
    assert dialogue_metadata("conv-1", "msg-1", ["language"]) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "slash"),
    [
        ("/request_human", True),
        ('  /order_status{"order_id": "10234"}', True),
        ("hvor er pakken? /Kari", False),
        ("", False),
        ("10234", False),
    ],
)
def test_slash_syntax(text: str, slash: bool) -> None:
    assert slash_syntax(text) is slash


@pytest.mark.parametrize("text", ["/request_human", " //restart", "/ /greet", '/order_status{"order_id": "10234"}'])
def test_as_text_keeps_the_length_and_loses_the_slash_syntax(text: str) -> None:
    read = as_text(text)
    assert len(read) == len(text) and not slash_syntax(read)
    assert read.strip() == text.strip().lstrip("/ ").strip()


def test_the_payloads_offered_are_the_last_bot_messages_buttons() -> None:
    def ask(*payloads: str) -> BotUttered:
        return BotUttered("?", {"buttons": [{"title": p, "payload": p} for p in payloads]})

    assert offered_payloads([]) == set()
    events = [UserUttered("ja"), ask("/order_status", "/check_points"), ActionExecuted("action_listen")]
    assert offered_payloads(events) == {"/order_status", "/check_points"}
    # A later message without buttons takes them away, as the widget does.
    assert offered_payloads([*events, UserUttered("åpningstider?"), BotUttered("Vi har åpent 8-16.")]) == set()
    assert offered_payloads([ask("/affirm"), BotUttered("bare tekst", {"buttons": None})]) == set()
    odd = BotUttered("?", {"buttons": [{"title": "x"}, "y", {"payload": 7}, {"payload": "/deny"}]})
    assert offered_payloads([odd]) == {"/deny"}
