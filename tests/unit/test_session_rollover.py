"""A long conversation's session starts again only at rest (bot/session_rollover.py), on Rasa's own trackers."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.actions.action import ActionSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_main import session_expiry_with_rollover, session_start_keeping_the_form
from bot.session_rollover import at_rest, keep_the_form, should_start_new_session, turns_in_session
from bot.settings import PROJECT_ROOT

LISTEN = "action_listen"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


def turn(intent: str, action: str, *, text: str = "hei", bot: dict[str, Any] | None = None) -> list[Event]:
    """One customer message and the bot's answer to it, as Rasa stores them."""
    events: list[Event] = [UserUttered(text, {"name": intent, "confidence": 0.9}), ActionExecuted(action)]
    if bot is not None:
        events.append(BotUttered(bot.get("text", "svar"), data={"buttons": bot.get("buttons")}))
    return [*events, ActionExecuted(LISTEN)]


def tracker(domain: Domain, events: list[Event]) -> DialogueStateTracker:
    start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted(LISTEN)]
    return DialogueStateTracker.from_events("c-1", [*start, *events], domain.slots)


def chat(count: int) -> list[Event]:
    return [event for _ in range(count) for event in turn("faq_shipping", "action_faq", bot={"text": "3-5 dager"})]


def test_counts_only_the_latest_sessions_messages(domain: Domain) -> None:
    older = chat(7)
    events = [*older, ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted(LISTEN), *chat(2)]
    assert turns_in_session(list(tracker(domain, events).events)) == 2
    assert turns_in_session(list(tracker(domain, chat(7)).events)) == 7


def test_a_long_session_at_rest_starts_again(domain: Domain) -> None:
    long = tracker(domain, chat(50))
    assert at_rest(long)
    assert should_start_new_session(long, 50)
    assert not should_start_new_session(tracker(domain, chat(49)), 50)
    assert not should_start_new_session(long, 0)  # turned off


def in_return_form(domain: Domain, before: list[Event]) -> DialogueStateTracker:
    """The return form has asked for the order number and waits for it."""
    events = [
        *before,
        UserUttered("jeg vil returnere", {"name": "start_return", "confidence": 0.9}),
        ActionExecuted("return_form"),
        ActiveLoop("return_form"),
        SlotSet("requested_slot", "order_id"),
        BotUttered("Hva er ordrenummeret?"),
        ActionExecuted(LISTEN),
    ]
    return tracker(domain, events)


def test_a_form_waiting_for_its_answer_is_at_rest_and_goes_over(domain: Domain) -> None:
    waiting = in_return_form(domain, chat(50))
    assert should_start_new_session(waiting, 50)
    new_session = keep_the_form(list(ActionSessionStart._slot_set_events_from_tracker(waiting)), waiting, 60)
    assert [e for e in new_session if isinstance(e, ActiveLoop)] == [ActiveLoop("return_form")]
    assert SlotSet("requested_slot", "order_id") in new_session


def test_rasas_session_start_carries_the_form_into_the_next_session(domain: Domain) -> None:
    waiting = in_return_form(domain, chat(3))
    events = asyncio.run(session_start_keeping_the_form()(ActionSessionStart(), None, None, waiting, domain))
    assert isinstance(events[0], SessionStarted) and events[-1] == ActionExecuted(LISTEN)
    after = tracker(domain, [])
    for event in [*waiting.events, ActionExecuted("action_session_start"), *events]:
        after.update(event)
    assert after.active_loop_name == "return_form"
    assert after.get_slot("requested_slot") == "order_id"
    assert after.latest_action_name == LISTEN


def test_an_idle_session_forgets_the_form_as_rasa_always_has(domain: Domain) -> None:
    idle = in_return_form(domain, chat(3))
    for event in idle.events:
        event.timestamp -= 2 * 3600
    events = asyncio.run(session_start_keeping_the_form()(ActionSessionStart(), None, None, idle, domain))
    assert not any(isinstance(e, ActiveLoop) for e in events)


def test_not_when_the_form_just_rejected_the_answer(domain: Domain) -> None:
    rejected = in_return_form(domain, chat(50))
    rejected.update(UserUttered("blæ", {"name": "inform", "confidence": 0.9}))
    rejected.update(ActionExecutionRejected("return_form"))
    rejected.update(ActionExecuted(LISTEN))
    assert rejected.active_loop.rejected
    assert not should_start_new_session(rejected, 50)


def test_not_with_a_follow_up_pending(domain: Domain) -> None:
    pending = tracker(domain, [*chat(50), FollowupAction("ticket_form")])
    assert not should_start_new_session(pending, 50)


def test_not_while_the_last_message_offers_buttons(domain: Domain) -> None:
    buttons = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nei", "payload": "/deny"}]
    offered = tracker(domain, [*chat(50), *turn("order_status", "action_order_status", bot={"buttons": buttons})])
    assert not at_rest(offered)
    # Buttons further back no longer count: the widget shows only the last message's.
    answered = tracker(domain, [*offered.events, *chat(1)])
    assert at_rest(answered)


def test_not_after_a_misunderstanding(domain: Domain) -> None:
    missed = tracker(domain, [*chat(50), *turn("nlu_fallback", "action_fallback", bot={"text": "Si det igjen?"})])
    assert not should_start_new_session(missed, 50)
    understood_again = tracker(domain, [*missed.events, *chat(1)])
    assert should_start_new_session(understood_again, 50)


def test_rasas_processor_expires_a_long_session_and_keeps_its_own_rule(domain: Domain) -> None:
    expired = session_expiry_with_rollover(max_turns=5)
    processor = SimpleNamespace(domain=domain)
    assert expired(processor, tracker(domain, chat(5)))
    assert not expired(processor, tracker(domain, chat(4)))
    # Rasa's own expiry (an hour idle, domain.yml) still applies to a short session.
    idle = tracker(domain, chat(1))
    for event in idle.events:
        event.timestamp -= 2 * 3600
    assert expired(processor, idle)
    # Sessions turned off in the domain: never.
    no_sessions = SimpleNamespace(domain=SimpleNamespace(session_config=SimpleNamespace(
        are_sessions_enabled=lambda: False, session_expiration_time=0)))  # fmt: skip
    assert not expired(no_sessions, tracker(domain, chat(9)))


def test_installed_twice_wraps_rasas_method_once() -> None:
    original = MessageProcessor._has_session_expired
    try:
        MessageProcessor._has_session_expired = session_expiry_with_rollover(5)
        again = session_expiry_with_rollover(5)
        assert again.__wrapped__ is original  # type: ignore[attr-defined]
    finally:
        MessageProcessor._has_session_expired = original


def test_slots_are_what_a_new_session_keeps(domain: Domain) -> None:
    """The premise: Rasa's session start carries the slots over (domain.yml says so)."""
    assert domain.session_config.carry_over_slots
    with_slot = tracker(domain, [SlotSet("language", "en"), *chat(3)])
    assert with_slot.get_slot("language") == "en"


def test_a_new_session_starts_with_each_slots_last_value_once(domain: Domain) -> None:
    changes = [SlotSet("requested_slot", "order_id"), SlotSet("order_id", "10234"), SlotSet("requested_slot", None)]
    old = tracker(domain, [SlotSet("language", "nb"), *changes, SlotSet("language", "en"), *chat(2)])
    events = asyncio.run(session_start_keeping_the_form()(ActionSessionStart(), None, None, old, domain))
    slot_events = [e for e in events if isinstance(e, SlotSet)]
    assert sorted((e.key, e.value) for e in slot_events) == [
        ("language", "en"), ("order_id", "10234"), ("requested_slot", None)
    ]  # fmt: skip
    # Rasa's own session start copied all five changes.
    rasas = asyncio.run(ActionSessionStart().run(None, None, old, domain))
    assert len([e for e in rasas if isinstance(e, SlotSet)]) == 5
