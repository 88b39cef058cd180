"""Refund status: where the money of the customer's order stands, with ownership checked as for an order."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction
from actions.orders import OrderQuestionForm, answer_about_orders
from bot.services.refunds import orders_with_refunds, refund_answers


class ValidateRefundStatusForm(OrderQuestionForm):
    def name(self) -> str:
        return "validate_refund_status_form"


class ActionRefundStatus(SupportAction):
    def name(self) -> str:
        return "action_refund_status"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        return answer_about_orders(
            dispatcher, tracker, orders_with_refunds, "utter_refund_none_on_account", refund_answers
        )
