"""Points: a signed-in member's balance, its worth, tier, next tier and points expiring soon."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SupportAction, customer_of, language_of
from bot.i18n import format_date, format_nok, format_points, tier_name
from bot.services.loyalty import points_summary
from bot.store.db import session_scope


class ActionPoints(SupportAction):
    def name(self) -> str:
        return "action_points"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        customer_id = customer_of(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_points_sign_in")
            return []
        language = language_of(tracker)
        with session_scope() as session:
            summary = points_summary(session, customer_id)
        if summary is None:
            dispatcher.utter_message(response="utter_points_no_account")
            return []
        dispatcher.utter_message(
            response="utter_points_balance",
            points=format_points(summary.points, language),
            value=format_nok(summary.value_nok, language),
            tier=tier_name(summary.tier, language),
        )
        if summary.next_tier:
            dispatcher.utter_message(
                response="utter_points_next_tier",
                next_tier=tier_name(summary.next_tier, language),
                points_needed=format_points(summary.points_to_next_tier, language),
            )
        else:
            dispatcher.utter_message(response="utter_points_top_tier", tier=tier_name(summary.tier, language))
        if summary.expiring_on:
            dispatcher.utter_message(
                response="utter_points_expiring",
                expiring_points=format_points(summary.expiring_points, language),
                expiring_on=format_date(summary.expiring_on, language),
            )
        return []
