"""action_session_context: the verified customer and the answer language, from metadata and text only."""

from rasa_sdk.events import SlotSet

from actions.session import ActionSessionContext
from tests.actions.conftest import run_action, token
from tests.support import make_tracker


async def test_valid_token_sets_the_customer() -> None:
    tracker = make_tracker(
        "hei", slots={"language": None}, metadata={"customer_token": token("C-1001"), "language": "nb"}
    )
    _, events = await run_action(ActionSessionContext(), tracker)
    assert SlotSet("customer_id", "C-1001") in events
    assert SlotSet("language", "nb") in events


async def test_tampered_token_signs_the_customer_out() -> None:
    forged = token("C-1001")[:-3] + "abc"
    tracker = make_tracker("hello", slots={"customer_id": "C-1001"}, metadata={"customer_token": forged})
    _, events = await run_action(ActionSessionContext(), tracker)
    assert SlotSet("customer_id", None) in events


async def test_metadata_of_the_wrong_shape_is_ignored() -> None:
    tracker = make_tracker(
        "hello", slots={"language": "en"}, metadata={"customer_token": {"sub": "C-1001"}, "language": 7}
    )
    _, events = await run_action(ActionSessionContext(), tracker)
    assert all(event.get("name") != "customer_id" or event.get("value") is None for event in events)


async def test_clear_english_switches_a_norwegian_conversation() -> None:
    tracker = make_tracker("Where is my order, please?", slots={"language": "nb"})
    _, events = await run_action(ActionSessionContext(), tracker)
    assert SlotSet("language", "en") in events
