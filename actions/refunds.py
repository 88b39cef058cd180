"""Refund status: where the money of the customer's order stands, with ownership checked as for an order."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import SupportAction, customer_of, language_of
from actions.orders import OrderSlotValidation, clear_order_slots, normalise_order_id
from bot.services.orders import find_owned_order
from bot.services.refunds import orders_with_refunds, refund_answers
from bot.store.db import session_scope


class ValidateRefundStatusForm(OrderSlotValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_refund_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if customer_of(tracker):
            return []  # signed in: the named order, or every order with a refund
        return ["order_id", "order_email"]


class ActionRefundStatus(SupportAction):
    def name(self) -> str:
        return "action_refund_status"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        customer_id = customer_of(tracker)
        order_id = normalise_order_id(tracker.get_slot("order_id"))
        with session_scope() as session:
            if customer_id and order_id is None:
                orders = orders_with_refunds(session, customer_id)
                if not orders:
                    dispatcher.utter_message(response="utter_refund_none_on_account")
                for order in orders:
                    for response, values in refund_answers(session, order, language):
                        dispatcher.utter_message(response=response, **values)
                return clear_order_slots()
            order = find_owned_order(session, order_id, customer_id, tracker.get_slot("order_email"))
            if order is None:
                not_found = "utter_order_not_found_account" if customer_id else "utter_order_not_found_guest"
                dispatcher.utter_message(response=not_found, order_id=order_id or "")
            else:
                for response, values in refund_answers(session, order, language):
                    dispatcher.utter_message(response=response, **values)
        return clear_order_slots()
