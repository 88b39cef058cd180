"""Refund status: a cancelled order's refund, a registered return's refund rule, or plainly nothing; own orders only."""

from datetime import date

from rasa_sdk.executor import CollectingDispatcher

from actions.refunds import ActionRefundStatus, ValidateRefundStatusForm
from bot.i18n import format_date
from bot.services.returns import check_return, register_return
from bot.store.db import session_scope
from bot.store.models import Order
from bot.store.queries import get_order
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker


async def refund(slots: dict) -> list[dict]:
    messages, events = await run_action(ActionRefundStatus(), make_tracker("?", intent="refund_status", slots=slots))
    assert {e["name"] for e in events} >= {"order_id", "order_email"}  # the question is answered: slots cleared
    return messages


def register(order_id: str) -> str:
    with session_scope() as session:
        order = get_order(session, order_id)
        return register_return(session, order, check_return(session, order), "test-conversation").rma


async def test_a_registered_return_tells_the_refund_rule_and_what_cannot_be_seen() -> None:
    rma = register("10251")  # Emma's running jacket, delivered 5 days ago
    messages = await refund({"customer_id": "C-1003", "order_id": "10251"})
    assert responses(messages) == ["utter_refund_return_registered"]
    told = messages[0]
    assert (told["rma"], told["items"], told["refund_days"]) == (rma, "Løpejakke Vind", 5)
    assert told["registered_on"] == format_date(date.today(), "en")


async def test_a_cancelled_order_says_whether_it_was_refunded() -> None:
    refunded = await refund({"customer_id": "C-1005", "order_id": "10222"})
    assert responses(refunded) == ["utter_order_cancelled"]
    with session_scope() as session:
        session.get(Order, "10222").refunded = False
    pending = await refund({"customer_id": "C-1005", "order_id": "10222"})
    assert responses(pending) == ["utter_refund_cancelled_pending"]
    assert pending[0]["items"] == "Sovepose Vinter"


async def test_an_order_without_return_or_cancellation_has_no_refund_on_its_way() -> None:
    messages = await refund({"customer_id": "C-1001", "order_id": "10198"})
    assert responses(messages) == ["utter_refund_none"]
    assert messages[0]["order_id"] == "10198"


async def test_signed_in_without_a_number_hears_about_every_order_with_a_refund() -> None:
    assert responses(await refund({"customer_id": "C-1001"})) == ["utter_refund_none_on_account"]
    rma = register("10198")
    messages = await refund({"customer_id": "C-1001"})
    assert responses(messages) == ["utter_refund_return_registered"]
    assert messages[0]["rma"] == rma
    assert responses(await refund({"customer_id": "C-1005"})) == ["utter_order_cancelled"]


async def test_only_the_customers_own_orders() -> None:
    someone_elses = await refund({"customer_id": "C-1001", "order_id": "10222"})  # John's order
    assert responses(someone_elses) == ["utter_order_not_found_account"]
    wrong_email = await refund({"order_id": "10222", "order_email": "kari.nordmann@example.no"})
    unknown = await refund({"order_id": "99999", "order_email": "kari.nordmann@example.no"})
    assert responses(wrong_email) == responses(unknown) == ["utter_order_not_found_guest"]
    assert "Sovepose" not in str(wrong_email)
    guest = await refund({"order_id": "10222", "order_email": "john.smith@example.com"})
    assert responses(guest) == ["utter_order_cancelled"]


async def test_guest_form_asks_for_number_and_email_and_signed_in_form_does_not() -> None:
    form = ValidateRefundStatusForm()
    guest = await form.required_slots([], CollectingDispatcher(), make_tracker(), {})
    signed_in = await form.required_slots([], CollectingDispatcher(), make_tracker(slots={"customer_id": "C-1001"}), {})
    assert guest == ["order_id", "order_email"]
    assert signed_in == []
