"""Order status: the customer's own orders only; guests prove ownership with the order's e-mail."""

from datetime import date, timedelta

import pytest

from actions.orders import ActionOrderStatus, ValidateOrderStatusForm
from bot.i18n import format_date
from tests.actions.conftest import responses, run_action
from tests.support import make_tracker


async def status(slots: dict) -> list[dict]:
    messages, events = await run_action(ActionOrderStatus(), make_tracker("?", intent="order_status", slots=slots))
    assert {e["name"] for e in events} >= {"order_id", "order_email"}  # the question is answered: slots cleared
    return messages


async def test_signed_in_without_a_number_hears_about_open_orders() -> None:
    messages = await status({"customer_id": "C-1001"})
    assert responses(messages) == ["utter_order_shipped"]
    shipped = messages[0]
    assert shipped["order_id"] == "10234"
    assert shipped["carrier"] == "Bring" and shipped["tracking_number"] == "70712345678901234"
    assert shipped["items"] == "Fjellsko Tinde GTX"
    assert shipped["eta"] == format_date(date.today() + timedelta(days=1), "en")


async def test_delayed_order_says_why_and_when() -> None:
    messages = await status({"customer_id": "C-1002", "order_id": "10240"})
    assert responses(messages) == ["utter_order_delayed"]
    assert messages[0]["delay_reason"] == "the supplier's delivery of this item to our warehouse is late"
    assert messages[0]["ship_date"] == format_date(date.today() + timedelta(days=5), "en")


async def test_someone_elses_order_is_not_found_on_your_account() -> None:
    messages = await status({"customer_id": "C-1001", "order_id": "10240"})  # Ola's order
    assert responses(messages) == ["utter_order_not_found_account"]
    assert "Telt" not in str(messages) and "Ola" not in str(messages)


async def test_guest_with_the_right_email_sees_the_order() -> None:
    messages = await status({"order_id": "10234", "order_email": "Kari.Nordmann@example.no "})
    assert responses(messages) == ["utter_order_shipped"]


async def test_guest_with_a_wrong_email_learns_nothing() -> None:
    wrong = await status({"order_id": "10234", "order_email": "ola.hansen@example.no"})
    unknown = await status({"order_id": "99999", "order_email": "ola.hansen@example.no"})
    assert responses(wrong) == responses(unknown) == ["utter_order_not_found_guest"]
    assert "Bring" not in str(wrong) and "Fjellsko" not in str(wrong)


async def test_cancelled_and_delivered_orders() -> None:
    cancelled = await status({"customer_id": "C-1005", "order_id": "10222"})
    delivered = await status({"customer_id": "C-1001", "order_id": "10198"})
    assert responses(cancelled) == ["utter_order_cancelled"]
    assert responses(delivered) == ["utter_order_delivered"]
    assert delivered[0]["items"] == "Ullundertøy sett and Løpesokker 3-pk"


async def test_a_received_order_and_no_open_orders() -> None:
    assert responses(await status({"customer_id": "C-1004"})) == ["utter_order_received"]
    assert responses(await status({"customer_id": "C-1003"})) == ["utter_no_open_orders"]


def test_order_number_with_letters_is_refused_politely() -> None:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = ValidateOrderStatusForm().validate_order_id("10A34", dispatcher, make_tracker("10A34"), {})
    assert result == {"order_id": None}
    assert responses(dispatcher.messages) == ["utter_invalid_order_id"]
    assert ValidateOrderStatusForm().validate_order_id("#10234", dispatcher, make_tracker(), {}) == {
        "order_id": "10234"
    }


async def test_guest_form_asks_for_the_email_and_signed_in_form_does_not() -> None:
    from rasa_sdk.executor import CollectingDispatcher

    form = ValidateOrderStatusForm()
    guest = await form.required_slots([], CollectingDispatcher(), make_tracker(), {})
    signed_in = await form.required_slots([], CollectingDispatcher(), make_tracker(slots={"customer_id": "C-1001"}), {})
    assert guest == ["order_id", "order_email"]
    assert signed_in == []


@pytest.mark.parametrize(("slot", "intent"), [("order_id", "order_status"), ("order_email", "order_status")])
async def test_the_question_asked_again_in_its_form_is_asked_back_not_ignored(slot: str, intent: str) -> None:
    """ "hvor er pakka mi?" again while the form waits for the number: the form asks again (it used to be
    rejected, and the customer heard nothing)."""
    from rasa_sdk.executor import CollectingDispatcher

    tracker = make_tracker("hvor er pakka mi?", intent=intent, slots={"requested_slot": slot})
    extract = getattr(ValidateOrderStatusForm(), f"extract_{slot}")
    assert await extract(CollectingDispatcher(), tracker, {}) == {slot: None}
    other = make_tracker("hvor er pakka mi?", intent="faq_shipping", slots={"requested_slot": slot})
    assert await extract(CollectingDispatcher(), other, {}) == {}
