"""Points, the personal greeting and the handoff request."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from actions.handoff import ActionFallback, ActionHandoff
from actions.loyalty import ActionPoints
from actions.profile import NEW_MEMBER_DAYS, ActionGreet, first_order_greeting
from bot.i18n import format_date
from bot.store.db import session_scope
from bot.store.models import HandoffRequest
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker


async def test_points_for_a_gold_member() -> None:
    messages, _ = await run_action(ActionPoints(), make_tracker("points?", slots={"customer_id": "C-1001"}))
    assert responses(messages) == ["utter_points_balance", "utter_points_top_tier", "utter_points_expiring"]
    balance, _, expiring = messages
    assert (balance["points"], balance["value"], balance["tier"]) == ("6,230", "NOK 623", "Gold")
    assert expiring["expiring_points"] == "150"
    assert expiring["expiring_on"] == format_date(date.today() + timedelta(days=39), "en")


async def test_points_to_the_next_tier() -> None:
    ola, _ = await run_action(ActionPoints(), make_tracker(slots={"customer_id": "C-1002"}))
    emma, _ = await run_action(ActionPoints(), make_tracker(slots={"customer_id": "C-1003"}))
    assert responses(ola) == ["utter_points_balance", "utter_points_next_tier"]
    assert (ola[0]["points"], ola[0]["value"], ola[1]["next_tier"], ola[1]["points_needed"]) == (
        "340",
        "NOK 34",
        "Silver",
        "1,160",
    )
    assert (emma[1]["next_tier"], emma[1]["points_needed"], emma[2]["expiring_points"]) == ("Gold", "3,100", "300")


async def test_points_need_sign_in() -> None:
    messages, _ = await run_action(ActionPoints(), make_tracker("how many points do I have"))
    assert responses(messages) == ["utter_points_sign_in"]


async def test_greeting_is_personal() -> None:
    kari, _ = await run_action(ActionGreet(), make_tracker("hei", slots={"customer_id": "C-1001", "language": "nb"}))
    assert responses(kari) == ["utter_greet_customer", "utter_greet_order_on_its_way", "utter_how_can_i_help"]
    assert kari[0]["first_name"] == "Kari" and kari[0]["tier"] == "Gull"
    assert kari[1]["order_id"] == "10234" and kari[1]["items"] == "Fjellsko Tinde GTX"
    mads, _ = await run_action(ActionGreet(), make_tracker("hej", slots={"customer_id": "C-1004"}))
    assert responses(mads)[0] == "utter_greet_first_time" and mads[0]["first_name"] == "Mads"
    guest, _ = await run_action(ActionGreet(), make_tracker("hi"))
    assert responses(guest) == ["utter_greet"]


@pytest.mark.parametrize(("language", "because"), [("nb", "leverandøren"), ("en", "supplier"), ("da", "leverandør")])
async def test_a_late_order_is_said_in_the_greeting_with_why(language: str, because: str) -> None:
    """Honest about problems before the customer asks: Ola's tent (order 10240) waits for the supplier."""
    tracker = make_tracker("hei", slots={"customer_id": "C-1002", "language": language})
    ola, _ = await run_action(ActionGreet(), tracker)
    assert responses(ola) == ["utter_greet_customer", "utter_order_delayed", "utter_how_can_i_help"]
    assert ola[1]["order_id"] == "10240" and because in ola[1]["delay_reason"] and ola[1]["ship_date"]


async def test_emma_a_member_for_700_days_is_no_first_time_customer() -> None:
    """Emma (Silver, 2 100 points, a member for 700 days) has one order in the demo data: that makes her no
    newcomer, so no "Tack för din första beställning"."""
    emma, _ = await run_action(ActionGreet(), make_tracker("hej", slots={"customer_id": "C-1003", "language": "sv"}))
    assert responses(emma)[0] == "utter_greet_customer"
    assert (emma[0]["first_name"], emma[0]["tier"]) == ("Emma", "Silver")


@pytest.mark.parametrize(
    ("customer", "greeting"),
    [
        ("C-1001", "utter_greet_customer"),  # Kari: 1 350 days, four orders
        ("C-1002", "utter_greet_customer"),  # Ola: 400 days, three orders
        ("C-1003", "utter_greet_customer"),  # Emma: 700 days, one order
        ("C-1004", "utter_greet_first_time"),  # Mads: joined today with his first order
        ("C-1005", "utter_greet_customer"),  # John: 900 days, two orders
    ],
)
async def test_every_demo_customer_is_greeted_as_what_they_are(customer: str, greeting: str) -> None:
    messages, _ = await run_action(ActionGreet(), make_tracker("hei", slots={"customer_id": customer}))
    assert responses(messages)[0] == greeting


@pytest.mark.parametrize(
    ("member_for_days", "orders", "first_order"),
    [
        (0, 1, True),
        (NEW_MEMBER_DAYS - 1, 1, True),
        (NEW_MEMBER_DAYS, 1, False),
        (700, 1, False),  # a long-time member with one recent order in the data
        (3, 2, False),
        (3, 0, False),  # no order yet: nothing to thank for
    ],
)
def test_a_first_order_is_a_new_members_only_order(member_for_days: int, orders: int, first_order: bool) -> None:
    today = date(2026, 12, 3)
    assert first_order_greeting(today - timedelta(days=member_for_days), orders, today) is first_order


def handoffs() -> list[HandoffRequest]:
    with session_scope() as session:
        return list(session.execute(select(HandoffRequest)).scalars())


async def test_handoff_is_stored_with_who_why_and_when() -> None:
    tracker = make_tracker(
        "I want a human", intent="request_human", slots={"customer_id": "C-1001"}, sender_id="conv-1"
    )
    messages, _ = await run_action(ActionHandoff(), tracker)
    [request] = handoffs()
    assert (request.conversation_id, request.customer_id, request.reason) == ("conv-1", "C-1001", "requested")
    assert request.last_message == "I want a human" and request.created_at is not None
    assert set(responses(messages)) & {"utter_handoff_queued", "utter_handoff_closed", "utter_handoff_nobody_available"}
    handoff = next(m["custom"]["handoff"] for m in messages if m.get("custom"))
    assert (handoff["request_id"], handoff["reason"]) == (request.id, "requested")


async def test_complaint_goes_to_a_person() -> None:
    messages, _ = await run_action(ActionHandoff(), make_tracker("my boots broke", intent="complaint"))
    assert responses(messages)[0] == "utter_handoff_complaint"
    assert handoffs()[0].reason == "complaint"


def user(intent: str) -> dict:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


async def test_second_misunderstanding_in_a_row_hands_over() -> None:
    once = make_tracker("qwe", intent="nlu_fallback", events=[user("greet"), user("nlu_fallback")])
    answered = [user("nlu_fallback"), {"event": "action", "name": "action_fallback"}]
    twice = make_tracker("qwe", intent="nlu_fallback", events=[*answered, user("nlu_fallback")])
    first, _ = await run_action(ActionFallback(), once)
    assert responses(first) == ["utter_rephrase"] and handoffs() == []
    second, _ = await run_action(ActionFallback(), twice)
    assert handoffs()[0].reason == "misunderstood"
    assert "utter_rephrase" not in responses(second)


async def test_greeting_reads_the_customers_orders_once() -> None:
    """The personal greeting reads the customer, their loyalty and their orders once each (orders and their
    items are two SELECTs), not the orders a second time for what is shipped."""
    selects: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(Engine, "before_cursor_execute", count)  # every engine: the actions' own included
    try:
        kari, _ = await run_action(ActionGreet(), make_tracker("hei", slots={"customer_id": "C-1001"}))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert responses(kari)[1] == "utter_greet_order_on_its_way"
    assert sum("FROM orders" in statement for statement in selects) == 1, selects
