"""Returns as a form: which order, proof of ownership, which item, confirmation; then the policy decides.

One module of about 500 lines on purpose: the form's validation, its questions and its submission read
together, as Rasa runs them; the return policy itself is bot/services/returns.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
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
    value_before_latest_message,
)
from actions.orders import (
    OrderSlotValidation,
    asks_the_question_again,
    clear_order_slots,
    normalise_order_id,
    typed_answer,
)
from bot.i18n import format_date, format_nok, tier_name
from bot.services.answers import ONE, Remark, read_remark, says_yes_or_no
from bot.services.faq import faq_values
from bot.services.orders import describe_items, find_owned_order
from bot.services.returns import ReturnCheck, check_return, register_return
from bot.shop import policies
from bot.store.db import session_scope
from bot.store.models import Order
from bot.store.queries import customer_orders, product_names

ALL_ITEMS = "all"
# The button that returns every item of the order, in the conversation's language.
ALL_ITEMS_TITLES = {"nb": "Alle varene", "en": "All of them", "sv": "Alla varorna", "da": "Alle varerne"}
# Below this NLU confidence a yes or no registers (or drops) a return only if its words say so.
SURE_CONFIRMATION = 0.5
# "nei, ikke de, ullundertøyet", "nej inte de, underställen", "no, not those, the wool underwear": the item
# chosen taken back for the one named after it. bot/services/answers.py leaves any "not" to NLU ("not the
# socks"); without these words the rest reads as the item meant.
_NOT_THOSE = re.compile(
    r"\b(?:ikke|ikkje|inte|not)\s+(?:de|dem|den|det|disse|denne|dette|dessa|denna|detta|those|them|that|these"
    r"|this|it)(?:\s+(?:der|där|there))?\b(?:\s*,?\s*(?:men|utan|but)\b)?",
    re.IGNORECASE,
)
# Words that make a return request more than a request for the item it names ("...men ikke sokkene"; "t" of
# "don't").
_NOT_ONLY = frozenset({"ikke", "ikkje", "inte", "ej", "not", "t", "aldri", "aldrig", "never"})
_NOT_ONLY |= {"men", "but", "utan", "uten", "uden", "without", "unless"}

T = TypeVar("T")


# rasa_sdk asks the form's required_slots while extracting, while validating and for the next question,
# and a remark reads the same orders again: one run of the form's validation remembers its lookups. The run
# writes nothing, and each key holds the slot values its answer depends on.
_THIS_RUN: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("return_form_run", default=None)


def _remembered(key: tuple[Any, ...], look_up: Callable[[], T]) -> T:
    memo = _THIS_RUN.get()
    if memo is None:
        return look_up()
    if key not in memo:
        memo[key] = look_up()
    return cast(T, memo[key])


def _owned_order(session: Session, tracker: Tracker) -> Order | None:
    order_id, customer_id = normalise_order_id(tracker.get_slot("order_id")), customer_of(tracker)
    email = tracker.get_slot("order_email")
    key = ("owned order", order_id, customer_id, email)
    return _remembered(key, lambda: find_owned_order(session, order_id, customer_id, email))


def _check(session: Session, order: Order) -> ReturnCheck:
    return _remembered(("return check", order.id), lambda: check_return(session, order))


def read_return_remark(text: str, product_names: Sequence[str]) -> Remark:
    """read_remark against these products and the categories the policy never takes back, which customers
    name their items by ("luene fra outlet"); a correction ("nei, ikke de, ullundertøyet") reads as the item
    it names."""
    names = [*product_names, *(str(category) for category in policies()["returns"]["not_returnable"])]
    corrected = _NOT_THOSE.sub(" , ", text)
    if corrected != text:
        remark = read_remark(corrected, names)
        if remark.items:
            return remark
    return read_remark(text, names)


@dataclass(frozen=True)
class ReturnOptions:
    """What a remark inside the return form can be about: the form's order once it is known to be the
    customer's, every order they can return from, and those the policy won't take back (a guest: that one)."""

    current: str | None
    orders: dict[str, dict[str, str]]  # order id -> {product name: SKU} of its returnable items
    given: str | None = None  # the order number given, before a guest's e-mail shows it is theirs
    # order id -> {product name: SKU} of its items, for orders that can't be returned: action_submit_return
    # says why (not delivered yet, the window passed, outlet only, returned already, cancelled)
    closed: dict[str, dict[str, str]] = field(default_factory=dict)
    owned: dict[str, str] = field(default_factory=dict)  # product name -> category, of all these orders' items

    def items_of(self, order_id: str | None) -> dict[str, str]:
        return self.orders.get(order_id or "", {})

    def theirs(self, text: str, remark: Remark) -> Remark:
        """The remark read against the customer's own products when it names some: "skoa" is the one pair
        of shoes Kari bought, not the trail shoes too, and "outlet" is Ola's outlet hats. Not when only the
        whole range makes it a bare answer ("sokkene og teltet": not all of it is theirs)."""
        if not self.owned:
            return remark
        own = read_return_remark(text, list(self.owned))
        if not own.items or (remark.bare and not own.bare):
            return remark
        by_category: dict[str, list[str]] = {}
        for name, category in self.owned.items():
            by_category.setdefault(category, []).append(name)
        named = [name for item in own.items for name in by_category.get(item, [item])]
        return replace(own, items=tuple(dict.fromkeys(named)))


def return_options(session: Session, tracker: Tracker) -> ReturnOptions:
    order = _owned_order(session, tracker)
    customer_id = customer_of(tracker)
    candidates = list(customer_orders(session, customer_id)) if customer_id else [order] if order else []
    orders: dict[str, dict[str, str]] = {}
    closed: dict[str, dict[str, str]] = {}
    owned: dict[str, str] = {}
    for candidate in candidates:
        check = _check(session, candidate)
        if check.eligible:
            orders[candidate.id] = {item.product.name: item.sku for item in check.returnable}
        else:
            closed[candidate.id] = {item.product.name: item.sku for item in candidate.items}
        owned |= {item.product.name: item.product.category for item in candidate.items}
    current = order.id if order is not None and order.id in orders else None
    return ReturnOptions(current, orders, normalise_order_id(tracker.get_slot("order_id")), closed, owned)


def remark_changes(remark: Remark, options: ReturnOptions, chosen: str | None) -> dict[str, Any] | None:
    """The answers a bare remark (or a return request naming one item) gives: {} when it gives none that is
    new (said again, a reason, an item not to be found), None when it is about nothing in this return."""
    if remark.other is not None:
        return _the_other(remark.other, options, chosen)
    if remark.items or remark.everything:
        return _order_with_items(remark, options)
    return {} if remark.reason else None


def _the_other(kind: str, options: ReturnOptions, chosen: str | None) -> dict[str, Any] | None:
    """ "den andre": the other of two items once one is chosen; else the other order, or ask again."""
    skus = list(options.items_of(options.current).values())
    if kind == ONE and len(skus) == 2 and chosen in skus:
        return {"return_sku": next(sku for sku in skus if sku != chosen)}
    if options.current is None:
        return {"order_id": None} if options.given else None  # a guest's order, not yet shown to be theirs
    if kind == ONE and len(skus) > 1:
        return None  # "the other one" of items not yet chosen from
    others = [order_id for order_id in options.orders if order_id != options.current]
    return {"order_id": others[0] if len(others) == 1 else None, "return_sku": None}


def _order_with_items(remark: Remark, options: ReturnOptions) -> dict[str, Any]:
    """The form's order if it holds what was named, else the one other order that does; else an order of
    theirs that holds it but can't be returned: with nothing left to ask, action_submit_return says why,
    as when its number is given."""
    others = [order_id for order_id in options.orders if order_id != options.current]
    for order_id in [options.current, *others] if options.current else others:
        choice = _choice(remark, options.items_of(order_id))
        if choice is not None:
            return {"order_id": order_id, "return_sku": choice or None}
    for order_id, items in options.closed.items():
        if _choice(remark, items) is not None:
            return {"order_id": order_id, "return_sku": None}
    return {}


def _asks_for_a_return(tracker: Tracker) -> bool:
    return (tracker.latest_message.get("intent") or {}).get("name") == "start_return"


def _returns_one_item(remark: Remark, tracker: Tracker) -> bool:
    """A return request naming one item among words the form does not read ("kan jeg retunere skoa", "vil
    returnere luene fra outlet"): NLU read a return, so that item is the one to return. Not with a no, a
    not, a but or "the other", which may turn it around ("...men ikke sokkene")."""
    return (
        _asks_for_a_return(tracker)
        and len(remark.items) == 1
        and not (remark.no or remark.everything or remark.other)
        and not _NOT_ONLY & set(remark.rest)
    )


def _choice(remark: Remark, items: dict[str, str]) -> str | None:
    """The SKU, or ALL_ITEMS, for what the remark names in these items; "" when there is nothing to
    choose (one item); None when it names something else."""
    named = [items[name] for name in remark.items if name in items]
    if not items or len(named) < len(remark.items):
        return None
    if len(items) == 1:
        return ""
    return named[0] if len(named) == 1 and not remark.everything else ALL_ITEMS


class ValidateReturnForm(OrderSlotValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_return_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        this_run = _THIS_RUN.set({})
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _THIS_RUN.reset(this_run)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = ["order_id"] if customer_of(tracker) else ["order_id", "order_email"]
        if any(tracker.get_slot(slot) is None for slot in slots):
            return slots
        with session_scope() as session:
            order = _owned_order(session, tracker)
            check = _check(session, order) if order is not None else None
        if check is None or not check.eligible:
            return slots  # nothing more to ask: action_submit_return explains
        return slots + (["return_sku"] if len(check.returnable) > 1 else []) + ["return_confirmed"]

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if asks_the_question_again(tracker, "order_id"):
            return {"order_id": None}
        return typed_answer(tracker, "order_id")  # "the other order" is read with the rest of a remark

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A remark in the customer's own words first (an item, a reason, "the other order"), so it is
        neither taken for a wrong answer nor left to the fallback; otherwise the usual answers."""
        remark_events = self._remark_events(dispatcher, tracker)
        if remark_events is not None:
            return remark_events
        return await super().get_extraction_events(dispatcher, tracker, domain)

    def _remark_events(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
        text = text_without_entities(tracker)
        if not text.strip() or text.startswith("/"):
            return None  # a button, or only an order number or e-mail address: Rasa's mappings take it
        with session_scope() as session:
            # Read against every product, so an item named before its order is known is understood too.
            remark = read_return_remark(text, product_names(session))
            if not (remark.says_something and (remark.bare or _asks_for_a_return(tracker))):
                return None
            options = return_options(session, tracker)
            remark = options.theirs(text, remark)
            if not (remark.bare or _returns_one_item(remark, tracker)):
                return None
            changes = remark_changes(remark, options, tracker.get_slot("return_sku"))
        if changes is None:
            return None
        changes = {slot: value for slot, value in changes.items() if tracker.get_slot(slot) != value}
        if changes:
            # A correction outranks a yes or no in the same message ("nei, den andre ordren").
            return [SlotSet(slot, value) for slot, value in (changes | {"return_confirmed": None}).items()]
        if not remark.bare:
            return None  # a return request that finds no new order: Rasa's mappings and questions, as before
        return self._ask_again(dispatcher, tracker, remark, options)

    @staticmethod
    def _ask_again(
        dispatcher: CollectingDispatcher, tracker: Tracker, remark: Remark, options: ReturnOptions
    ) -> list[EventType] | None:
        """Nothing new (an answer again, a reason, an item before its order is known): say so kindly and
        ask the question again, instead of leaving it to the fallback."""
        answered = filled_by_latest_message(tracker)
        if "return_confirmed" in answered and remark.yes_or_no:
            return []  # "ja, soveposen": the yes stands
        # NLU may guess a yes or no in "jakka" or "den var for liten"; without the words it is no answer.
        answered.pop("return_confirmed", None)
        requested = tracker.get_slot("requested_slot")
        if requested not in ORDER_SLOTS or answered:
            return []  # the form is starting, or the message also answered (an e-mail): that stands
        if remark.no:
            return None  # "nei, det passer ikke" to another question: a no, for the rules (stop the return)
        if requested == "return_sku" and remark.items:
            dispatcher.utter_message(response="utter_invalid_return_sku")  # not an item of this order
        elif remark.reason:
            dispatcher.utter_message(response="utter_return_reason_noted")
        elif options.current is None:
            dispatcher.utter_message(response="utter_return_item_later")
        return [SlotSet(requested, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """After another order than before, the item chosen and the yes belonged to the one before.

        Done after validation, not in validate_order_id: rasa_sdk drops the answers of slots the new
        order does not need (the item of a one-item order), so a reset there could be lost."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        before = normalise_order_id(value_before_latest_message(tracker, "order_id"))
        if tracker.get_slot("order_id") == before:
            return events
        chosen_now = any(event.get("name") == "return_sku" for event in events)
        stale = ["return_confirmed"] if chosen_now else ["return_sku", "return_confirmed"]
        return events + [
            SlotSet(slot, None)
            for slot in stale
            if tracker.get_slot(slot) is not None or value_before_latest_message(tracker, slot) is not None
        ]

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
        typed = typed_answer(tracker, "return_sku")
        if typed:
            return typed
        text = (tracker.latest_message.get("text") or "").strip().lower()
        with session_scope() as session:
            order = _owned_order(session, tracker)
            returnable = _check(session, order).returnable if order else []
            named = [item for item in returnable if len(text) >= 3 and text in item.product.name.lower()]
        return {"return_sku": text} if named else {}

    def validate_return_confirmed(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The yes registers the return: an unsure guess of one ("hmm") asks again instead."""
        if slot_value is None or clearly_yes_or_no(tracker):
            return {"return_confirmed": slot_value}
        dispatcher.utter_message(response="utter_rephrase_form_answer")
        return {"return_confirmed": None}

    def validate_return_sku(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"return_sku": None}  # asked again, or reset with a new order: nothing to check
        with session_scope() as session:
            order = _owned_order(session, tracker)
            returnable = _check(session, order).returnable if order else []
            choice = str(slot_value or "").strip().lower()
            if choice == ALL_ITEMS or any(choice == item.sku.lower() for item in returnable):
                return {"return_sku": choice.upper() if choice != ALL_ITEMS else ALL_ITEMS}
            # Typed text: accept an unambiguous product name.
            named = [item.sku for item in returnable if choice and choice in item.product.name.lower()]
        if len(named) == 1:
            return {"return_sku": named[0]}
        dispatcher.utter_message(response="utter_invalid_return_sku")
        return {"return_sku": None}


def clearly_yes_or_no(tracker: Tracker) -> bool:
    """A button, a sure NLU reading, or the words themselves ("ja", "no thanks")."""
    text = (tracker.latest_message.get("text") or "").strip()
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence") or 0.0
    return text.startswith("/") or confidence >= SURE_CONFIRMATION or says_yes_or_no(text)


class ActionAskReturnSku(Action):
    """Offer the order's returnable items as buttons."""

    def name(self) -> str:
        return "action_ask_return_sku"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        with session_scope() as session:
            order = _owned_order(session, tracker)
            items = _check(session, order).returnable if order else []
            buttons = [{"title": item.product.name, "payload": f'/inform{{"sku": "{item.sku}"}}'} for item in items]
        everything = ALL_ITEMS_TITLES.get(language_of(tracker), ALL_ITEMS_TITLES["nb"])
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
                    if _check(session, order).eligible:
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
            check = _check(session, order)
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
            check = _check(session, order)
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
