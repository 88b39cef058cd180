"""Conversations that recover (issue 13): inside a form, an answer again or ahead, a correction, a question
in the middle or a misunderstanding, then a yes or a no, finish or stop the form as the customer meant,
and never open a handoff or a ticket they didn't ask for.

First the form's own reading, calling the actions directly with the tracker Rasa would send; then whole
conversations with the real Rasa server and action server (REST channel, and the gateway's channel).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import ActionFallback, misunderstood_in_a_row
from actions.orders import ValidateOrderStatusForm
from actions.returns import ActionAskReturnConfirmed, ActionSubmitReturn, ValidateReturnForm
from actions.tickets import ValidateTicketForm
from bot.identity import sign_customer_token
from bot.settings import PROJECT_ROOT, get_settings
from bot.store.db import session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, ReturnRequest
from tests.actions.conftest import responses, run_action
from tests.support import RasaStack, http_json, make_tracker, rasa_admin_token, texts

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
# Kari, gull, can return from 10198 (Ullundertøy sett TS-1002, Løpesokker 3-pk TS-1003) and 10150 (Sovepose
# Vinter TS-1010).
KARI = "C-1001"
# Ola, bronse, can return nothing: the tent (10240) is not delivered yet, the thermos (10101) was delivered 45
# days ago, the ski hats (10177) are from the outlet.
OLA = "C-1002"


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def form_turn(
    text: str,
    intent: str,
    slots: dict[str, Any],
    requested: str | None,
    form: str = "return_form",
    filled: dict[str, Any] | None = None,
    confidence: float = 1.0,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """The tracker a form's validation action gets from Rasa: the slots as they were before the message,
    the message, then what Rasa's own mappings filled from it (a number, an e-mail, a yes or no)."""
    filled = filled or {}
    user = {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": entities or []},
    }
    events = [
        *(slot_event(name, value) for name, value in slots.items()),
        user,
        slot_event("requested_slot", requested),
        {"event": "action", "name": form},
        *(slot_event(name, value) for name, value in filled.items()),
    ]
    return Tracker(
        sender_id="recovery",
        slots={"language": "en", **slots, "requested_slot": requested, **filled},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "metadata": {},
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name=form,
    )


async def validate(tracker: Tracker, form: Any = None) -> tuple[list[str], dict[str, Any]]:
    """(responses the form's validation sent, the slots it set: the last value of each)."""
    dispatcher = CollectingDispatcher()
    events = await (form or ValidateReturnForm()).run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher.messages), {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_the_item_said_again_at_the_confirmation_asks_it_again_even_when_nlu_reads_a_complaint() -> None:
    said, slots = await validate(
        form_turn("the sleeping bag", "complaint", {"customer_id": KARI, "order_id": "10150"}, "return_confirmed")
    )
    assert said == [] and slots == {"return_confirmed": None, "requested_slot": "return_confirmed"}


async def test_a_reason_is_noted_and_nlus_guess_of_a_no_is_not_taken() -> None:
    tracker = form_turn(
        "it didn't fit me",
        "deny",
        {"customer_id": KARI, "order_id": "10150"},
        "return_confirmed",
        filled={"return_confirmed": False},
    )
    said, slots = await validate(tracker)
    assert said == ["utter_return_reason_noted"]
    assert slots == {"return_confirmed": None, "requested_slot": "return_confirmed"}


async def test_a_yes_in_so_many_words_stands_beside_the_item() -> None:
    tracker = form_turn(
        "ja, soveposen",
        "affirm",
        {"customer_id": KARI, "order_id": "10150"},
        "return_confirmed",
        filled={"return_confirmed": True},
    )
    _, slots = await validate(tracker)
    assert slots == {"return_confirmed": True, "requested_slot": None}


async def test_an_unsure_yes_is_asked_again() -> None:
    tracker = form_turn(
        "hmm",
        "affirm",
        {"customer_id": KARI, "order_id": "10150"},
        "return_confirmed",
        filled={"return_confirmed": True},
        confidence=0.4,
    )
    said, slots = await validate(tracker)
    assert said == ["utter_rephrase_form_answer"]
    assert slots == {"return_confirmed": None, "requested_slot": "return_confirmed"}


async def test_no_the_other_order_corrects_the_order_instead_of_cancelling() -> None:
    tracker = form_turn(
        "nei, den andre ordren",
        "deny",
        {"customer_id": KARI, "order_id": "10198", "return_sku": "TS-1003"},
        "return_confirmed",
        filled={"return_confirmed": False},
    )
    _, slots = await validate(tracker)
    assert slots["order_id"] == "10150" and slots["return_sku"] is None and slots["return_confirmed"] is None
    assert slots["requested_slot"] == "return_confirmed"  # 10150 has one item: straight to the summary


async def test_another_item_at_the_confirmation_replaces_the_first() -> None:
    tracker = form_turn(
        "nei, jeg mente sokkene",
        "deny",
        {"customer_id": KARI, "order_id": "10198", "return_sku": "TS-1002"},
        "return_confirmed",
        filled={"return_confirmed": False},
    )
    _, slots = await validate(tracker)
    assert (slots["return_sku"], slots["return_confirmed"], slots["requested_slot"]) == (
        "TS-1003",
        None,
        "return_confirmed",
    )


async def test_the_item_named_before_the_order_finds_a_signed_in_customers_order() -> None:
    _, slots = await validate(form_turn("sokkene", "inform", {"customer_id": KARI}, "order_id"))
    assert (slots["order_id"], slots["return_sku"], slots["requested_slot"]) == ("10198", "TS-1003", "return_confirmed")


def shown(message: dict[str, Any], language: str) -> str:
    """A response as the customer reads it: its variation for their language (nb has no condition), filled in."""
    condition = [{"type": "slot", "name": "language", "value": language}] if language != "nb" else []
    variation = next(v for v in DOMAIN["responses"][message["response"]] if v.get("condition", []) == condition)
    return str(variation["text"]).format(**message)


@pytest.mark.parametrize(
    ("customer", "language", "text", "requested", "order_id", "explained"),
    [
        (OLA, "nb", "vil returnere luene fra outlet", None, "10177", "Bestilling 10177 inneholder bare outletvarer"),
        (OLA, "nb", "vil returnere termosen", None, "10101", "returfristen for bestilling 10101 har gått ut"),
        (OLA, "nb", "kan jeg returnere teltet", "order_id", "10240", "Bestilling 10240 er ikke levert ennå"),
        (KARI, "nb", "kan jeg retunere skoa", None, "10234", "Bestilling 10234 er ikke levert ennå"),  # on its way
        (OLA, "sv", "jag vill returnera tältet", None, "10240", "Beställning 10240 har inte kommit fram än"),
        (OLA, "da", "jeg vil returnere termoflasken", "order_id", "10101", "returfristen for bestilling 10101"),
        (OLA, "en", "I'd like to return the hats from the outlet", None, "10177", "Order 10177 contains only outlet"),
        (KARI, "en", "the bike helmet", "return_sku", "9870", "the return window for order 9870 has passed"),
    ],
)
async def test_an_item_that_cannot_be_returned_is_explained_at_once(
    customer: str, language: str, text: str, requested: str | None, order_id: str, explained: str
) -> None:
    """The item finds the customer's order even when the policy won't take it back: the form is done at once,
    and the submission explains why, as when the order number is given."""
    before = {"customer_id": customer, "language": language}
    if requested == "return_sku":
        before["order_id"] = "10198"  # Kari was choosing from another order
    intent = "inform" if requested == "return_sku" else "start_return"
    said_now, slots = await validate(form_turn(text, intent, before, requested))
    assert said_now == [] and (slots["order_id"], slots["requested_slot"]) == (order_id, None)
    messages, _ = await run_action(ActionSubmitReturn(), make_tracker(slots=before | slots))
    assert len(messages) == 1 and messages[0]["response"].startswith("utter_return_ineligible_")
    assert explained in shown(messages[0], language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nb", "nei ikke de, ullundertøyet"),
        ("sv", "nej inte de, underställen"),
        ("da", "nej ikke dem, uldundertøjet"),
        ("en", "no not those, the wool underwear"),
    ],
)
async def test_no_not_those_the_other_item_at_the_confirmation_switches_the_item(language: str, text: str) -> None:
    """ "nei ikke de, ullundertøyet" to "Løpesokker 3-pk ... Skal jeg registrere returen?": a correction, not
    a no to the return; the summary is asked again for the item meant."""
    before = {"customer_id": KARI, "language": language, "order_id": "10198", "return_sku": "TS-1003"}
    tracker = form_turn(text, "deny", before, "return_confirmed", filled={"return_confirmed": False})
    said_now, slots = await validate(tracker)
    assert said_now == []
    assert (slots["return_sku"], slots["return_confirmed"], slots["requested_slot"]) == (
        "TS-1002",
        None,
        "return_confirmed",
    )
    asked, _ = await run_action(ActionAskReturnConfirmed(), make_tracker(slots=before | slots))
    assert asked[0]["items"] == "Ullundertøy sett" and "10198" in shown(asked[0], language)


@pytest.mark.parametrize(
    ("language", "text", "order_id", "requested"),
    [
        ("nb", "nei ikke de, soveposen", "10150", "return_confirmed"),  # another order, of one item
        ("en", "no, not those, the sleeping bag", "10150", "return_confirmed"),
        ("nb", "nei ikke de, sykkelhjelmen", "9870", None),  # past its window: the submission says so
        ("sv", "nej inte de, hjälmen", "9870", None),
    ],
)
async def test_no_not_those_an_item_of_another_order_switches_the_order(
    language: str, text: str, order_id: str, requested: str | None
) -> None:
    before = {"customer_id": KARI, "language": language, "order_id": "10198", "return_sku": "TS-1003"}
    tracker = form_turn(text, "deny", before, "return_confirmed", filled={"return_confirmed": False})
    _, slots = await validate(tracker)
    assert (slots["order_id"], slots["return_sku"], slots["requested_slot"]) == (order_id, None, requested)
    if requested is not None:
        assert slots["return_confirmed"] is None
    else:  # the form is done: the no Rasa read stays, but the order comes first
        after = before | {"return_confirmed": False} | slots
        messages, _ = await run_action(ActionSubmitReturn(), make_tracker(slots=after))
        assert responses(messages) == ["utter_return_ineligible_window_passed"]
        assert "9870" in shown(messages[0], language)


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("kan jeg retunere sokkene", {"order_id": "10198", "return_sku": "TS-1003"}),  # a word it doesn't read
        ("jeg vil returnere noe, men ikke sokkene", {}),  # more than an item: the order is asked for
    ],
)
async def test_a_return_request_finds_a_returnable_item_as_before(text: str, slots: dict[str, Any]) -> None:
    _, set_now = await validate(form_turn(text, "start_return", {"customer_id": KARI, "language": "nb"}, None))
    assert {slot: set_now[slot] for slot in slots} == slots
    assert set_now["requested_slot"] == ("return_confirmed" if slots else "order_id")


async def test_no_not_those_without_an_item_is_still_a_no() -> None:
    before = {"customer_id": KARI, "language": "nb", "order_id": "10198", "return_sku": "TS-1003"}
    tracker = form_turn("nei, ikke de", "deny", before, "return_confirmed", filled={"return_confirmed": False})
    _, slots = await validate(tracker)
    assert slots == {"return_confirmed": False, "requested_slot": None}  # then "Greit, jeg har ikke registrert..."


async def test_a_guest_naming_the_item_first_is_told_the_order_comes_first() -> None:
    said, slots = await validate(form_turn("jakka", "complaint", {}, "order_id"))
    assert said == ["utter_return_item_later"] and slots == {"order_id": None, "requested_slot": "order_id"}


async def test_a_no_to_another_question_still_stops_the_form() -> None:
    """ "nei, det passer ikke" at the order question is a no, not a reason to note: the form fills nothing,
    so Rasa rejects it and the deny rule stops the return."""
    _, slots = await validate(form_turn("nei, det passer ikke", "deny", {"customer_id": KARI}, "order_id"))
    assert slots == {"requested_slot": "order_id"}


async def test_the_order_question_takes_back_the_order_and_reads_a_new_number_as_no_email() -> None:
    form = ValidateOrderStatusForm()
    other = form_turn("nei, den andre ordren", "deny", {"order_id": "10198"}, "order_email", form="order_status_form")
    said, slots = await validate(other, form)
    assert said == [] and slots == {"order_id": None}  # Rasa's form then asks for the number again
    number = [{"entity": "order_id", "value": "10234", "start": 14, "end": 19}]
    meant = form_turn(
        "sorry, I meant 10234",
        "inform",
        {"order_id": "10198"},
        "order_email",
        form="order_status_form",
        filled={"order_id": "10234"},
        entities=number,
    )
    said, slots = await validate(meant, form)
    assert said == [] and slots == {"order_id": "10234"}  # and no "that doesn't look like an e-mail address"


def user_turn(intent: str, text: str = "x") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_only_messages_the_fallback_answered_count_as_misunderstood() -> None:
    # "ullundertøy": NLU's fallback, but the form took it as the item; then one real misunderstanding.
    accepted = [user_turn("nlu_fallback", "ullundertøy"), action("return_form"), action("action_listen")]
    assert misunderstood_in_a_row(make_tracker(events=[*accepted, user_turn("nlu_fallback")])) == 1
    # A yes to the question just asked breaks a run of misunderstandings.
    missed = [user_turn("nlu_fallback"), action("action_fallback"), action("return_form"), action("action_listen")]
    yes = [user_turn("affirm", "ja"), action("return_form"), action("action_listen")]
    assert misunderstood_in_a_row(make_tracker(events=[*missed, *yes, user_turn("nlu_fallback")])) == 1
    assert misunderstood_in_a_row(make_tracker(events=[*missed, user_turn("nlu_fallback")])) == 2


async def test_a_misunderstanding_inside_a_form_asks_to_rephrase_without_the_topic_menu() -> None:
    accepted = [user_turn("nlu_fallback", "ullundertøy"), action("return_form"), action("action_listen")]
    tracker = make_tracker(
        "it was too smal",
        intent="nlu_fallback",
        events=[*accepted, user_turn("nlu_fallback")],
        active_loop="return_form",
    )
    messages, events = await run_action(ActionFallback(), tracker)
    assert responses(messages) == ["utter_rephrase_form_answer"] and events == []
    with session_scope() as session:
        assert session.execute(select(HandoffRequest)).first() is None


def test_a_bare_yes_is_no_message_for_the_desk() -> None:
    form = ValidateTicketForm()
    yes = make_tracker("ja", intent="affirm")
    assert form.validate_ticket_message("ja", CollectingDispatcher(), yes, {}) == {"ticket_message": None}
    message = make_tracker("ja, jakka har et hull i ermet og glidelåsen er ødelagt", intent="affirm")
    text = "ja, jakka har et hull i ermet og glidelåsen er ødelagt"
    assert form.validate_ticket_message(text, CollectingDispatcher(), message, {}) == {"ticket_message": text}


# --- whole conversations: the real Rasa server and action server --------------------------------------


def conversation() -> str:
    return f"recovery-{uuid.uuid4().hex[:12]}"


def talk(stack: RasaStack, sender: str, language: str, customer: str | None, *messages: str) -> list[str]:
    """Each message in turn; what the customer was shown after each."""
    token = sign_customer_token(customer) if customer else None
    return [texts(stack.chat(sender, message, token=token, language=language)) for message in messages]


def stored(sender: str) -> tuple[list[ReturnRequest], int, int]:
    """The conversation's returns, and how many handoff requests and tickets it opened."""
    with session_scope() as session:
        returns = list(session.execute(select(ReturnRequest).where(ReturnRequest.conversation_id == sender)).scalars())
        handoffs = session.execute(select(HandoffRequest).where(HandoffRequest.conversation_id == sender)).all()
        tickets = session.execute(select(Ticket).where(Ticket.conversation_id == sender)).all()
        return returns, len(handoffs), len(tickets)


@pytest.mark.server
def test_the_testers_conversation_registers_the_return_and_opens_no_ticket(rasa_stack: RasaStack) -> None:
    """The bug report: the item and the reason given again, then "ja" to "Skal jeg registrere returen?"."""
    sender = conversation()
    replies = talk(
        rasa_stack, sender, "nb", KARI, "jeg vil returnere noe", "10150", "soveposen", "den var for liten", "ja"
    )
    assert "Skal jeg registrere returen?" in replies[2]  # asked again, not handed over
    assert "Du trenger ikke oppgi noen grunn" in replies[3] and "Skal jeg registrere returen?" in replies[3]
    [registered], handoffs, tickets = stored(sender)
    assert registered.order_id == "10150" and registered.skus == "TS-1010" and registered.rma in replies[4]
    assert (handoffs, tickets) == (0, 0)


@pytest.mark.server
def test_a_fallback_the_form_accepted_does_not_count_towards_a_handoff(rasa_stack: RasaStack) -> None:
    """ "ullundertøy" is NLU's fallback but the item question's answer; "it was too small" after it is no
    second misunderstanding, and "yes" registers the return."""
    sender = conversation()
    replies = talk(
        rasa_stack, sender, "en", KARI, "I want to return something", "10198", "ullundertøy", "it was too small", "yes"
    )
    assert "Shall I register the return?" in replies[2] and "Shall I register the return?" in replies[3]
    [registered], handoffs, tickets = stored(sender)
    assert (registered.order_id, registered.skus, handoffs, tickets) == ("10198", "TS-1002", 0, 0)


@pytest.mark.server
def test_the_other_order_a_question_and_a_misunderstanding_then_yes(rasa_stack: RasaStack) -> None:
    sender = conversation()
    replies = talk(
        rasa_stack,
        sender,
        "nb",
        KARI,
        "jeg vil returnere noe",
        "sokkene",  # ahead of the question: finds 10198
        "nei, det var den andre ordren",  # a correction, not a "no" to the return
        "hva koster frakten?",
        "blørp snørk",
        "ja",
    )
    assert "Løpesokker 3-pk fra bestilling 10198" in replies[1]
    assert "Sovepose Vinter fra bestilling 10150" in replies[2]
    assert "Standard levering" in replies[3] and "Skal jeg registrere returen?" in replies[3]
    assert "forsto jeg ikke" in replies[4] and "Skal jeg registrere returen?" in replies[4]
    [registered], handoffs, tickets = stored(sender)
    assert (registered.order_id, registered.skus, handoffs, tickets) == ("10150", "TS-1010", 0, 0)


@pytest.mark.server
def test_a_no_at_the_confirmation_after_a_recovery_registers_nothing_and_opens_nothing(rasa_stack: RasaStack) -> None:
    sender = conversation()
    replies = talk(rasa_stack, sender, "en", KARI, "I'd like to return something", "the sleeping bag", "too big", "no")
    assert "Sovepose Vinter from order 10150" in replies[1]
    assert "haven't registered any return" in replies[3]
    assert stored(sender) == ([], 0, 0)


@pytest.mark.server
def test_a_guest_who_names_the_item_first_and_again(rasa_stack: RasaStack) -> None:
    sender = conversation()
    replies = talk(
        rasa_stack,
        sender,
        "nb",
        None,
        "jeg vil returnere noe",
        "jakka",  # before the order: noted, and the order number asked again
        "10251",
        "emma.lindqvist@example.se",
        "jakka",  # again at the confirmation: NLU's guess of a yes is not taken
        "ja",
    )
    assert "Fint, vi kommer til varen" in replies[1] and "ordrenummeret" in replies[1]
    assert "Skal jeg registrere returen?" in replies[4] and "RMA" not in replies[4]
    [registered], handoffs, tickets = stored(sender)
    assert (registered.order_id, handoffs, tickets) == ("10251", 0, 0)


@pytest.mark.server
def test_the_same_answer_twice_inside_a_form_is_no_frustrated_repeat(rasa_stack: RasaStack) -> None:
    """Through the gateway's channel, which hands a "same question again" to a person: an answer given
    again inside the return form is no question asked again."""
    secret = rasa_admin_token(get_settings().rasa_jwt_secret)
    kari = sign_customer_token(KARI)
    sender = conversation()

    def turn(text: str, earlier: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"sender": sender, "message": text, "metadata": {"language": "en", "customer_token": kari}}
        body["metadata"]["earlier_turns"] = earlier
        url = f"{rasa_stack.rasa_url}/webhooks/gateway/webhook"
        return http_json(url, body, {"Authorization": f"Bearer {secret}"})

    turn("I'd like to return something", [])
    first = turn("the sleeping bag", [{"text": "I'd like to return something", "intent": "start_return"}])
    again = turn("the sleeping bag", [{"text": "the sleeping bag", "intent": first["intent"]}])
    assert "frustration" not in again and "Shall I register the return?" in texts(again["messages"])
    done = turn("yes", [])
    assert "RMA number" in texts(done["messages"])
    [registered], handoffs, tickets = stored(sender)
    assert (registered.order_id, handoffs, tickets) == ("10150", 0, 0)
