"""Order status: the order form's validation and the answer, with ownership checked on every look-up."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    ORDER_SLOTS,
    SupportAction,
    customer_of,
    filled_by_latest_message,
    language_of,
    text_without_entities,
)
from bot.patterns import is_email, is_order_id
from bot.services.answers import read_remark
from bot.services.orders import (
    find_owned_order,
    open_orders,
    order_facts,
    order_response,
)
from bot.store.db import session_scope
from bot.store.models import Order


def clear_order_slots() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in ORDER_SLOTS]


def normalise_order_id(value: Any) -> str | None:
    """Accept '#10234' or ' 10234 '; anything else is not an order number."""
    if isinstance(value, list):  # several numbers in one message: take the first
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    value = value.strip().lstrip("#")
    return value if is_order_id(value) else None


# Intents under which a message that fills no slot is still an attempt at the requested answer.
ANSWER_INTENTS = ("inform", "nlu_fallback")


def typed_answer(tracker: Tracker, slot: str) -> dict[str, Any]:
    """When the form asked for `slot` and NLU found no entity, take the typed text as the answer.

    Then validation can say what is wrong with it ("10A34" is no order number) instead of the form
    silently asking again.
    """
    if tracker.get_slot("requested_slot") != slot:
        return {}
    if tracker.latest_message.get("entities"):
        return {}  # an order number or e-mail address, asked for or not: Rasa's mappings take it
    if (tracker.latest_message.get("intent") or {}).get("name") not in ANSWER_INTENTS:
        return {}
    text = (tracker.latest_message.get("text") or "").strip()
    return {slot: text[:100]} if text and not text.startswith("/") else {}


# The questions these forms answer: asked again while the form waits for an answer ("hvor er pakka mi?"
# once more), the form asks its question again instead of falling silent.
QUESTION_INTENTS = ("order_status", "refund_status", "start_return")


def asks_the_question_again(tracker: Tracker, slot: str) -> bool:
    latest = tracker.latest_message
    return (
        tracker.get_slot("requested_slot") == slot
        and not latest.get("entities")
        and (latest.get("intent") or {}).get("name") in QUESTION_INTENTS
    )


def asks_for_another_order(tracker: Tracker) -> bool:
    """ "nei, den andre ordren", "no, the other order": the order given is not the one meant, and no
    other number came with it."""
    if "order_id" in filled_by_latest_message(tracker):
        return False
    remark = read_remark(text_without_entities(tracker))
    return remark.bare and remark.other is not None


class OrderSlotValidation:
    """Format checks shared by the order-status and return forms."""

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("order_id") is not None and asks_for_another_order(tracker):
            return {"order_id": None}  # ask for the number again
        if asks_the_question_again(tracker, "order_id"):
            return {"order_id": None}
        return typed_answer(tracker, "order_id")

    async def extract_order_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if asks_for_another_order(tracker):
            return {}  # not an e-mail address gone wrong
        if asks_the_question_again(tracker, "order_email"):
            return {"order_email": None}
        return typed_answer(tracker, "order_email")

    def validate_order_id(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"order_id": None}  # taken back ("the other order"): ask again, nothing to correct
        order_id = normalise_order_id(slot_value)
        if order_id is None:
            dispatcher.utter_message(response="utter_invalid_order_id")
        return {"order_id": order_id}

    def validate_order_email(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"order_email": None}  # asked again after a remark: nothing to correct
        email = slot_value.strip() if isinstance(slot_value, str) else None
        if not is_email(email):
            dispatcher.utter_message(response="utter_invalid_email")
            return {"order_email": None}
        return {"order_email": email}


class OrderQuestionForm(OrderSlotValidation, FormValidationAction, ABC):
    """A question about one order (its status, its refund): a guest gives the number and the order's e-mail."""

    @abstractmethod
    def name(self) -> str:
        """The form's validation action (abstract, so rasa_sdk registers only the concrete forms)."""

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if customer_of(tracker):
            # A signed-in customer who names no order hears about all their own orders that fit.
            return []
        return ["order_id", "order_email"]


Replies = list[tuple[str, dict[str, Any]]]  # (response name, its values) for dispatcher.utter_message


def answer_about_orders(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    own_orders: Callable[[Session, str], list[Order]],
    none_response: str,
    replies: Callable[[Session, Order, str], Replies],
) -> list[dict[str, Any]]:
    """Answer an order question: the named order (owned by the customer or proven by a guest's e-mail), or,
    for a signed-in customer who named none, each of `own_orders`; then forget the question's answers."""
    language = language_of(tracker)
    customer_id = customer_of(tracker)
    order_id = normalise_order_id(tracker.get_slot("order_id"))
    with session_scope() as session:
        if customer_id and order_id is None:
            orders = own_orders(session, customer_id)
            if not orders:
                dispatcher.utter_message(response=none_response)
            for owned in orders:
                for response, values in replies(session, owned, language):
                    dispatcher.utter_message(response=response, **values)
            return clear_order_slots()
        order = find_owned_order(session, order_id, customer_id, tracker.get_slot("order_email"))
        if order is None:
            not_found = "utter_order_not_found_account" if customer_id else "utter_order_not_found_guest"
            dispatcher.utter_message(response=not_found, order_id=order_id or "")
        else:
            for response, values in replies(session, order, language):
                dispatcher.utter_message(response=response, **values)
    return clear_order_slots()


class ValidateOrderStatusForm(OrderQuestionForm):
    def name(self) -> str:
        return "validate_order_status_form"


class ActionOrderStatus(SupportAction):
    def name(self) -> str:
        return "action_order_status"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        return answer_about_orders(
            dispatcher,
            tracker,
            open_orders,
            "utter_no_open_orders",
            lambda session, order, language: [(order_response(order), order_facts(order, language))],
        )


class ActionCancelOrderQuestion(Action):
    """The customer stopped an order form: forget its half-given answers."""

    def name(self) -> str:
        return "action_cancel_order_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_order_question_cancelled")
        return clear_order_slots()
