"""Returns by the policy: window by tier from delivery, outlet never, not before delivery; RMA and label price."""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.returns import ActionSubmitReturn, ValidateReturnForm
from bot.services.returns import check_return
from bot.store.db import session_scope
from bot.store.models import Order, ReturnRequest
from bot.store.queries import get_order
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker


@pytest.mark.parametrize(
    ("order_id", "eligible", "reason", "label_price"),
    [
        ("10198", True, None, 0),  # gull, delivered 12 days ago
        ("10150", True, None, 0),  # gull: 60-day window, delivered 45 days ago
        ("9870", False, "window_passed", 0),  # delivered 110 days ago
        ("10101", False, "window_passed", 59),  # bronse: 30 days, delivered 45 days ago
        ("10177", False, "outlet_only", 59),  # outlet items are final sale
        ("10240", False, "not_delivered", 59),  # still processing
        ("10245", False, "not_delivered", 0),  # shipped, not delivered yet
        ("10222", False, "cancelled", 0),
        ("10251", True, None, 0),  # solv: free returns
    ],
)
def test_policy(shop: str, order_id: str, eligible: bool, reason: str | None, label_price: int) -> None:
    with session_scope() as session:
        check = check_return(session, get_order(session, order_id))
    assert (check.eligible, check.reason, check.label_price_nok) == (eligible, reason, label_price)


def test_window_counts_from_delivery_to_the_last_day() -> None:
    with session_scope() as session:
        order = get_order(session, "10101")  # Ola, bronse: 30 days
        delivered = order.delivered_at.date()
        assert check_return(session, order, today=delivered + timedelta(days=30)).eligible
        assert check_return(session, order, today=delivered + timedelta(days=31)).reason == "window_passed"


def _deliver_recently(order_id: str) -> None:
    with session_scope() as session:
        order = session.get(Order, order_id)
        order.delivered_at = datetime.combine(date.today() - timedelta(days=3), time(12), tzinfo=timezone.utc)


async def submit(slots: dict) -> tuple[list[dict], list[dict]]:
    return await run_action(ActionSubmitReturn(), make_tracker("ja", intent="affirm", slots=slots))


async def test_eligible_return_is_stored_with_rma_and_label_price() -> None:
    _deliver_recently("10101")  # Ola is bronse: he pays for the label
    messages, _ = await submit({"customer_id": "C-1002", "order_id": "10101", "return_confirmed": True})
    assert responses(messages) == ["utter_return_registered"]
    assert messages[0]["label_price"] == "59 kr" and messages[0]["refund_days"] == 5
    with session_scope() as session:
        stored = session.execute(select(ReturnRequest).where(ReturnRequest.order_id == "10101")).scalar_one()
    assert stored.rma == messages[0]["rma"] and stored.label_price_nok == 59 and stored.skus == "TS-1006"


async def test_gold_member_returns_one_item_for_free_and_not_twice() -> None:
    slots = {"customer_id": "C-1001", "order_id": "10198", "return_sku": "TS-1003", "return_confirmed": True}
    messages, _ = await submit(slots)
    assert responses(messages) == ["utter_return_registered_free"]
    assert messages[0]["items"] == "Løpesokker 3-pk"
    again, _ = await submit(slots | {"return_sku": None})
    assert responses(again) == ["utter_return_registered_free"]  # the other item is still returnable
    assert again[0]["items"] == "Ullundertøy sett"
    third, _ = await submit(slots)
    assert responses(third) == ["utter_return_ineligible_already_returned"]


async def test_ineligible_return_gives_the_exact_reason() -> None:
    messages, _ = await submit({"customer_id": "C-1001", "order_id": "9870", "return_confirmed": True})
    assert responses(messages) == ["utter_return_ineligible_window_passed"]
    assert messages[0]["window_days"] == 60 and messages[0]["tier"] == "Gold"
    outlet, _ = await submit({"customer_id": "C-1002", "order_id": "10177"})
    assert responses(outlet) == ["utter_return_ineligible_outlet_only"]


async def test_guest_return_needs_the_orders_email() -> None:
    wrong, _ = await submit({"order_id": "10251", "order_email": "kari.nordmann@example.no", "return_confirmed": True})
    right, _ = await submit({"order_id": "10251", "order_email": "emma.lindqvist@example.se", "return_confirmed": True})
    assert responses(wrong) == ["utter_order_not_found_guest"]
    assert responses(right) == ["utter_return_registered_free"]


async def test_declined_confirmation_stores_nothing() -> None:
    messages, _ = await submit({"customer_id": "C-1003", "order_id": "10251", "return_confirmed": False})
    assert responses(messages) == ["utter_return_not_registered"]
    with session_scope() as session:
        assert session.execute(select(ReturnRequest)).first() is None


async def test_form_asks_for_item_only_when_there_is_a_choice() -> None:
    form = ValidateReturnForm()
    several = make_tracker(slots={"customer_id": "C-1001", "order_id": "10198"})
    one = make_tracker(slots={"customer_id": "C-1001", "order_id": "10150"})
    ineligible = make_tracker(slots={"customer_id": "C-1001", "order_id": "9870"})
    assert await form.required_slots([], CollectingDispatcher(), several, {}) == [
        "order_id",
        "return_sku",
        "return_confirmed",
    ]
    assert await form.required_slots([], CollectingDispatcher(), one, {}) == ["order_id", "return_confirmed"]
    assert await form.required_slots([], CollectingDispatcher(), ineligible, {}) == ["order_id"]


async def test_return_form_questions_offer_the_customers_own_choices() -> None:
    from actions.returns import ActionAskReturnConfirmed, ActionAskReturnOrderId, ActionAskReturnSku

    orders, _ = await run_action(ActionAskReturnOrderId(), make_tracker(slots={"customer_id": "C-1001"}))
    assert [b["title"] for b in orders[0]["buttons"]] == [
        "10198: Ullundertøy sett and Løpesokker 3-pk",
        "10150: Sovepose Vinter",
    ]  # only orders that can still be returned
    guest, _ = await run_action(ActionAskReturnOrderId(), make_tracker())
    assert responses(guest) == ["utter_ask_order_id"] and guest[0]["buttons"] == []

    slots = {"customer_id": "C-1001", "order_id": "10198"}
    items, _ = await run_action(ActionAskReturnSku(), make_tracker(slots=slots))
    assert [b["payload"] for b in items[0]["buttons"]] == [
        '/inform{"sku": "TS-1002"}',
        '/inform{"sku": "TS-1003"}',
        '/inform{"sku": "all"}',
    ]
    confirm, _ = await run_action(ActionAskReturnConfirmed(), make_tracker(slots=slots | {"return_sku": "TS-1002"}))
    assert responses(confirm) == ["utter_ask_return_confirmed_free"]
    assert (confirm[0]["items"], confirm[0]["tier"]) == ("Ullundertøy sett", "Gold")


async def test_someone_elses_order_offers_nothing_to_return() -> None:
    from actions.returns import ActionAskReturnSku

    items, _ = await run_action(
        ActionAskReturnSku(), make_tracker(slots={"customer_id": "C-1002", "order_id": "10198"})
    )
    assert [b["payload"] for b in items[0]["buttons"]] == ['/inform{"sku": "all"}']


async def test_stopping_an_order_question_forgets_its_answers() -> None:
    from actions.orders import ActionCancelOrderQuestion

    messages, events = await run_action(ActionCancelOrderQuestion(), make_tracker(slots={"order_id": "10198"}))
    assert responses(messages) == ["utter_order_question_cancelled"]
    assert {(e["name"], e["value"]) for e in events} == {
        ("order_id", None),
        ("order_email", None),
        ("return_sku", None),
        ("return_confirmed", None),
    }


def test_typed_product_name_picks_the_item() -> None:
    from rasa_sdk.executor import CollectingDispatcher

    slots = {"customer_id": "C-1001", "order_id": "10198"}
    form = ValidateReturnForm()
    assert form.validate_return_sku("sokker", CollectingDispatcher(), make_tracker(slots=slots), {}) == {
        "return_sku": "TS-1003"
    }
    dispatcher = CollectingDispatcher()
    assert form.validate_return_sku("telt", dispatcher, make_tracker(slots=slots), {}) == {"return_sku": None}
    assert responses(dispatcher.messages) == ["utter_invalid_return_sku"]


async def test_the_item_question_lets_the_customer_leave() -> None:
    from actions.returns import ValidateReturnForm

    slots = {"customer_id": "C-1001", "order_id": "10198", "requested_slot": "return_sku"}
    form = ValidateReturnForm()
    leave = make_tracker("I'd rather talk to a real person", intent="request_human", slots=slots)
    assert await form.extract_return_sku(CollectingDispatcher(), leave, {}) == {}
    named = make_tracker("ullundertøy", intent="faq_returns", slots=slots)
    assert await form.extract_return_sku(CollectingDispatcher(), named, {}) == {"return_sku": "ullundertøy"}
    clicked = make_tracker(
        '/inform{"sku": "TS-1003"}', intent="inform", slots=slots, entities=[{"entity": "sku", "value": "TS-1003"}]
    )
    assert await form.extract_return_sku(CollectingDispatcher(), clicked, {}) == {"return_sku": "TS-1003"}
