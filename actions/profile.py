"""Personal greeting: a signed-in customer hears their name, what is on its way, and their tier."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, customer_of, language_of
from bot.i18n import tier_name
from bot.services.orders import order_facts, order_response
from bot.store.db import session_scope
from bot.store.queries import customer_orders, get_customer

MAX_ORDERS_IN_GREETING = 2
# A customer who joined Tindra Klubben fewer days ago than this, with one order, is thanked for a first order.
NEW_MEMBER_DAYS = 30


def first_order_greeting(member_since: date, order_count: int, today: date) -> bool:
    """Whether to thank the customer for their first order: exactly one order, from a member who joined
    within NEW_MEMBER_DAYS. The order count alone says nothing: the shop keeps only recent orders, and Emma,
    a Silver member for 700 days, has one."""
    return order_count == 1 and (today - member_since).days < NEW_MEMBER_DAYS


class ActionGreet(SupportAction):
    def name(self) -> str:
        return "action_greet"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        customer_id = customer_of(tracker)
        language = language_of(tracker)
        with session_scope() as session:
            customer = get_customer(session, customer_id) if customer_id else None
            if customer is None:
                dispatcher.utter_message(response="utter_greet")
                return []
            tier = tier_name(customer.loyalty.tier if customer.loyalty else None, language)
            orders = customer_orders(session, customer.id)  # read once: for "first time" and what is shipped
            first_time = first_order_greeting(customer.member_since, len(orders), date.today())
            greeting = "utter_greet_first_time" if first_time else "utter_greet_customer"
            dispatcher.utter_message(response=greeting, first_name=customer.first_name, tier=tier)
            # A late order is said first, and why, before the customer has to ask; then what is on its way.
            late = "utter_order_delayed"
            news = [(order, late) for order in orders if order_response(order) == late]
            news += [(order, "utter_greet_order_on_its_way") for order in orders if order.status == "shipped"]
            for order, response in news[:MAX_ORDERS_IN_GREETING]:
                dispatcher.utter_message(response=response, **order_facts(order, language))
        dispatcher.utter_message(response="utter_how_can_i_help")
        return []
