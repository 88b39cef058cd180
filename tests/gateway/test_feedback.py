"""Customer ratings through the real widget socket, gateway and Rasa: asked when the customer says thanks or
goodbye or an agent closes the chat, in the conversation's language, once per conversation, stored with it."""

from __future__ import annotations

import pytest

from bot.identity import sign_customer_token
from bot.store.conversations import Conversation
from bot.store.db import session_scope
from bot.training.inbox import InboxFilter, inbox_messages
from tests.gateway.conftest import Gateway
from tests.gateway.widget_client import messages

pytestmark = pytest.mark.server


def rating_requests(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "rating_request"]


async def test_thanks_asks_once_and_a_rating_of_1_lands_in_the_inbox_masked(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(token=sign_customer_token("C-1001"), language="nb")
    await widget.turn("hei, jeg er Kari og nummeret mitt er 912 34 567, hvor er ordre 10234?")
    frames = await widget.turn("tusen takk for hjelpen")
    assert [m["role"] for m in messages(frames)][:2] == ["customer", "bot"]
    assert rating_requests(frames) == [{"type": "rating_request", "language": "nb"}]

    # Ignored: saying goodbye later does not ask again.
    frames = await widget.turn("ha det bra")
    assert rating_requests(frames) == []

    await widget.ws.send_json({"type": "rating", "rating": 1, "comment": "  svarte ikke på det jeg spurte om "})
    assert (await widget.until(lambda f: f["type"] in ("rating_saved", "error")))[-1]["type"] == "rating_saved"
    # One rating per conversation (one more is thanked, and the first stays), and only whole numbers 1..5.
    await widget.ws.send_json({"type": "rating", "rating": 5})
    assert (await widget.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {
        "type": "rating_saved",
        "already": True,
    }
    await widget.ws.send_json({"type": "rating", "rating": 9})
    assert (await widget.until(lambda f: f["type"] == "error"))[-1]["code"] == "bad_frame"
    conversation_id = widget.conversation_id
    await widget.close()

    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert (conversation.rating, conversation.rating_comment) == (1, "svarte ikke på det jeg spurte om")
        mine = [
            m for m in inbox_messages(session, InboxFilter(reason="rated_low")) if m.conversation_id == conversation_id
        ]
    first = next(m for m in mine if "10234" in m.text)
    assert first.text == "hei, jeg er [name] og nummeret mitt er [phone], hvor er ordre 10234?"


async def test_an_english_goodbye_is_asked_in_english(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(language="en")
    frames = await widget.turn("thank you so much, bye")
    assert rating_requests(frames) == [{"type": "rating_request", "language": "en"}]
    await widget.close()


async def test_a_rating_nobody_asked_for_is_refused(gateway: Gateway) -> None:
    widget = await gateway.widget()
    await widget.hello(language="nb")
    await widget.turn("hvor lang er leveringstiden?")
    await widget.ws.send_json({"type": "rating", "rating": 4})
    assert (await widget.until(lambda f: f["type"] in ("rating_saved", "error")))[-1]["type"] == "error"
    await widget.close()


async def test_a_rating_in_one_tab_reaches_every_tab_and_a_second_one_is_thanked(gateway: Gateway) -> None:
    """Two tabs of one conversation: the rating given in one hides the question in the other, and the other
    tab's late answer gets "thanks, it was already saved", never "couldn't read that message"."""
    token = sign_customer_token("C-1001")
    tab_a = await gateway.widget()
    await tab_a.hello(token=token, language="nb")
    await tab_a.turn("hvor er ordre 10234?")
    tab_b = await gateway.widget()
    await tab_b.hello(tab_a.conversation_id, last_seq=len(messages(tab_a.frames)), token=token, language="nb")
    assert tab_b.conversation_id == tab_a.conversation_id

    await tab_a.turn("tusen takk for hjelpen")
    assert rating_requests(await tab_b.until(lambda f: f["type"] == "rating_request")) == [
        {"type": "rating_request", "language": "nb"}
    ]
    await tab_a.ws.send_json({"type": "rating", "rating": 4})
    assert (await tab_a.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {"type": "rating_saved"}
    # The other tab is told too, so it hides its rating box.
    assert (await tab_b.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {"type": "rating_saved"}

    # A rating from a tab that missed that (offline at the time, say): thanked, and the first rating stays.
    await tab_b.ws.send_json({"type": "rating", "rating": 1, "comment": "to ganger"})
    assert (await tab_b.until(lambda f: f["type"] in ("rating_saved", "error")))[-1] == {
        "type": "rating_saved",
        "already": True,
    }
    assert await tab_a.quiet_for(0.5) == []  # only the tab that asked hears about it
    with session_scope() as session:
        conversation = session.get(Conversation, tab_a.conversation_id)
        assert (conversation.rating, conversation.rating_comment) == (4, None)
    await tab_a.close()
    await tab_b.close()
