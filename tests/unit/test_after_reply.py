"""What a turn and the bot's reply set going (bot/services/after_reply.py), decided without I/O."""

from __future__ import annotations

from bot.services.after_reply import (
    Handoff,
    TicketTaken,
    TurnFor,
    rating_question,
    read_payload,
    turn_for,
)
from bot.store.conversations import ConversationState


def test_whom_a_turn_is_for() -> None:
    assert turn_for(ConversationState.BOT) is TurnFor.BOT
    assert turn_for("queued") is TurnFor.BOT  # the bot keeps answering while the customer waits
    assert turn_for("agent") is TurnFor.AGENT
    assert turn_for(ConversationState.CLOSED) is TurnFor.REOPENED_BOT


def test_payloads_from_the_actions() -> None:
    assert read_payload({"handoff": {"reason": "requested", "queued": True}}) == [Handoff("requested", True)]
    assert read_payload({"handoff": {"reason": "complaint"}}) == [Handoff("complaint", True)]
    assert read_payload({"handoff": {"reason": "requested", "queued": False}}) == [Handoff("requested", False)]
    assert read_payload({"ticket": {"id": 7}}) == [TicketTaken(7)]
    assert read_payload({"handoff": "yes", "other": 1}) == []


def test_the_rating_question_follows_thanks_and_goodbye_only() -> None:
    assert rating_question("thanks") == "the customer said thanks"
    assert rating_question("goodbye") == "the customer said goodbye"
    assert rating_question("order_status") is None
    assert rating_question(None) is None


def test_states_keep_their_stored_strings() -> None:
    assert [state.value for state in ConversationState] == ["bot", "queued", "agent", "closed"]
    assert ConversationState.AGENT == "agent" and f"{ConversationState.AGENT}" == "agent"
