"""Returns as a form: which order, proof of ownership, which item, confirmation; then the policy decides."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import SupportAction, customer_of, language_of
from actions.orders import OrderSlotValidation, clear_order_slots, normalise_order_id, typed_answer
from bot.i18n import format_date, format_nok, tier_name
from bot.services.faq import faq_values
from bot.services.orders import describe_items, find_owned_order
from bot.services.returns import check_return, register_return
from bot.store.db import session_scope
from bot.store.models import Order
from bot.store.queries import customer_orders

ALL_ITEMS = "all"


def _owned_order(session: Session, tracker: Tracker) -> Order | None:
    return find_owned_order(
        session, normalise_order_id(tracker.get_slot("order_id")), customer_of(tracker), tracker.get_slot("order_email")
    )


class ValidateReturnForm(OrderSlotValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_return_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = ["order_id"] if customer_of(tracker) else ["order_id", "order_email"]
        if any(tracker.get_slot(slot) is None for slot in slots):
            return slots
        with session_scope() as session:
            order = _owned_order(session, tracker)
            check = check_return(session, order) if order is not None else None
        if check is None or not check.eligible:
            return slots  # nothing more to ask: action_submit_return explains
        return slots + (["return_sku"] if len(check.returnable) > 1 else []) + ["return_confirmed"]

    async def extract_return_sku(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A button sends the SKU as an entity; typed text counts when it reads as an answer or names a
        product, so "no", "a person please" or a question still leave the form."""
        if tracker.get_slot("requested_slot") != "return_sku":
            return {}
        skus = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "sku"]
        if skus:
            return {"return_sku": skus[0]}
        typed = typed_answer(tracker, "return_sku", "sku")
        if typed:
            return typed
        text = (tracker.latest_message.get("text") or "").strip().lower()
        with session_scope() as session:
            order = _owned_order(session, tracker)
            returnable = check_return(session, order).returnable if order else []
            named = [item for item in returnable if len(text) >= 3 and text in item.product.name.lower()]
        return {"return_sku": text} if named else {}

    def validate_return_sku(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        with session_scope() as session:
            order = _owned_order(session, tracker)
            returnable = check_return(session, order).returnable if order else []
            choice = str(slot_value or "").strip().lower()
            if choice == ALL_ITEMS or any(choice == item.sku.lower() for item in returnable):
                return {"return_sku": choice.upper() if choice != ALL_ITEMS else ALL_ITEMS}
            # Typed text: accept an unambiguous product name.
            named = [item.sku for item in returnable if choice and choice in item.product.name.lower()]
        if len(named) == 1:
            return {"return_sku": named[0]}
        dispatcher.utter_message(response="utter_invalid_return_sku")
        return {"return_sku": None}


class ActionAskReturnSku(Action):
    """Offer the order's returnable items as buttons."""

    def name(self) -> str:
        return "action_ask_return_sku"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        with session_scope() as session:
            order = _owned_order(session, tracker)
            items = check_return(session, order).returnable if order else []
            buttons = [{"title": item.product.name, "payload": f'/inform{{"sku": "{item.sku}"}}'} for item in items]
        everything = "Alle varene" if language_of(tracker) == "nb" else "All of them"
        buttons.append({"title": everything, "payload": f'/inform{{"sku": "{ALL_ITEMS}"}}'})
        dispatcher.utter_message(response="utter_ask_return_sku", buttons=buttons)
        return []


class ActionAskReturnOrderId(Action):
    """Ask for the order; a signed-in customer gets their recent delivered orders as buttons."""

    def name(self) -> str:
        return "action_ask_return_form_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer_id = customer_of(tracker)
        buttons = []
        if customer_id:
            with session_scope() as session:
                for order in customer_orders(session, customer_id):
                    if check_return(session, order).eligible:
                        title = f"{order.id}: {describe_items(order.items, language_of(tracker))}"
                        buttons.append({"title": title, "payload": f'/inform{{"order_id": "{order.id}"}}'})
        dispatcher.utter_message(response="utter_ask_order_id", buttons=buttons[:5])
        return []


class ActionSubmitReturn(SupportAction):
    def name(self) -> str:
        return "action_submit_return"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        customer_id = customer_of(tracker)
        with session_scope() as session:
            order = _owned_order(session, tracker)
            if order is None:
                not_found = "utter_order_not_found_account" if customer_id else "utter_order_not_found_guest"
                dispatcher.utter_message(response=not_found, order_id=tracker.get_slot("order_id") or "")
                return clear_order_slots()
            check = check_return(session, order)
            values = {
                "order_id": order.id,
                "window_days": check.window_days,
                "tier": tier_name(check.tier, language),
                "deadline": format_date(check.deadline, language) if check.deadline else "",
                "rma": check.existing_rma or "",
            }
            if not check.eligible:
                dispatcher.utter_message(response=f"utter_return_ineligible_{check.reason}", **values)
                return clear_order_slots()
            if tracker.get_slot("return_confirmed") is not True:
                dispatcher.utter_message(response="utter_return_not_registered")
                return clear_order_slots()
            chosen = tracker.get_slot("return_sku")
            if chosen and chosen != ALL_ITEMS:
                check.returnable = [item for item in check.returnable if item.sku == chosen]
            request = register_return(session, order, check, tracker.sender_id)
            values.update(
                rma=request.rma,
                items=describe_items(check.returnable, language),
                label_price=format_nok(request.label_price_nok),
                refund_days=request.refund_business_days,
            )
            free = request.label_price_nok == 0
            dispatcher.utter_message(
                response="utter_return_registered_free" if free else "utter_return_registered", **values
            )
            if check.outlet_items:
                outlet = describe_items(check.outlet_items, language)
                dispatcher.utter_message(response="utter_return_outlet_excluded", items=outlet)
        return clear_order_slots()


class ActionAskReturnConfirmed(Action):
    """Sum up the return (items, label price, condition) before asking to register it."""

    def name(self) -> str:
        return "action_ask_return_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        with session_scope() as session:
            order = _owned_order(session, tracker)
            if order is None:
                return []
            check = check_return(session, order)
            chosen = tracker.get_slot("return_sku")
            items = [item for item in check.returnable if chosen in (None, ALL_ITEMS, item.sku)]
            free = check.label_price_nok == 0
            dispatcher.utter_message(
                response="utter_ask_return_confirmed_free" if free else "utter_ask_return_confirmed",
                tier=tier_name(check.tier, language),
                order_id=order.id,
                items=describe_items(items, language),
                label_price=format_nok(check.label_price_nok),
                return_condition=faq_values(language)["return_condition"],
            )
        return []
