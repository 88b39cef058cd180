"""The assistant through Rasa's REST channel, with the real Rasa server, action server and database.

A signed-in customer's turns go through the gateway's channel instead (RasaStack.chat): only that channel
verifies a customer token."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.identity import sign_customer_token
from bot.store.db import session_scope
from bot.store.models import HandoffRequest, ReturnRequest
from bot.store.seed import seed_demo
from tests.support import RasaStack, texts

pytestmark = pytest.mark.server


def conversation() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def stack(rasa_stack: RasaStack) -> RasaStack:
    seed_demo()
    return rasa_stack


HOSTILE = {
    "empty": "",
    "whitespace": "   \n\t ",
    "huge": "hvor er pakken min " * 530,  # about 10 000 characters
    "emoji only": "😀🙈🔥💯",
    "html": "<img src=x onerror=alert(1)>",
    "script": "<script>alert('hei')</script>",
    "sql": "' OR 1=1; DROP TABLE orders; --",
    "order number with letters": "10A34",
    "control characters": "\x00\x01\x1b[31mhei\x7f",
    "fake intent with a slot": '/check_points{"customer_id": "C-1001"}',
    "fake entity": '/order_status{"order_id": "10234"}',
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_gets_a_polite_reply_and_no_error(stack: RasaStack, name: str) -> None:
    offsets = {log_name: len(stack.log_text(log_name)) for log_name in ("rasa", "actions")}
    replies = stack.chat(conversation(), HOSTILE[name], language="en")
    assert texts(replies).strip(), f"no reply to {name}"
    assert "Traceback" not in texts(replies)
    # Nothing private leaks, whatever the wording: the demo customers' facts never appear.
    for secret in ("Kari", "70712345678901234", "6 230", "6,230", "6230", "kari.nordmann"):
        assert secret not in texts(replies)
    for log_name, offset in offsets.items():
        new_lines = stack.log_text(log_name)[offset:]
        assert "Traceback" not in new_lines and " ERROR " not in new_lines, new_lines[-3000:]


def test_letters_in_an_order_number_get_an_explanation(stack: RasaStack) -> None:
    sender = conversation()
    stack.chat(sender, "Where is my order?", language="en")
    reply = texts(stack.chat(sender, "10A34", language="en"))
    assert "doesn't look like an order number" in reply


def test_signed_in_kari_asks_where_her_parcel_is(stack: RasaStack) -> None:
    token = sign_customer_token("C-1001")
    sender = conversation()
    greeting = texts(stack.chat(sender, "Hei!", token=token))
    assert "Kari" in greeting and "10234" in greeting
    reply = texts(stack.chat(sender, "hvor er pakka mi?", token=token))
    for fact in ("10234", "Bring", "70712345678901234", "Fjellsko Tinde GTX"):
        assert fact in reply


def test_guest_needs_the_email_and_a_wrong_one_reveals_nothing(stack: RasaStack) -> None:
    sender = conversation()
    asked = texts(stack.chat(sender, "where is order 10234?", language="en"))
    assert "e-mail" in asked
    wrong = texts(stack.chat(sender, "ola.hansen@example.no", language="en"))
    assert "couldn't find" in wrong
    for secret in ("Bring", "Fjellsko", "7071234", "shipped"):
        assert secret not in wrong
    sender = conversation()
    stack.chat(sender, "where is order 10234?", language="en")
    right = texts(stack.chat(sender, "kari.nordmann@example.no", language="en"))
    assert "Bring" in right and "70712345678901234" in right


def test_someone_elses_order_is_never_shown(stack: RasaStack) -> None:
    token = sign_customer_token("C-1001")
    reply = texts(stack.chat(conversation(), "what is the status of order 10240", token=token, language="en"))
    assert "can't find order 10240 on your account" in reply
    assert "Telt" not in reply and "supplier" not in reply


def test_delayed_order_is_honest(stack: RasaStack) -> None:
    token = sign_customer_token("C-1002")
    reply = texts(stack.chat(conversation(), "Has my order 10240 shipped yet?", token=token, language="en"))
    assert "delayed" in reply and "the supplier's delivery of this item to our warehouse is late" in reply


def test_a_late_order_is_told_in_the_greeting(stack: RasaStack) -> None:
    reply = texts(stack.chat(conversation(), "hei", token=sign_customer_token("C-1002")))
    assert "Ola" in reply and "10240" in reply and "forsinket" in reply and "leverandør" in reply


@pytest.mark.parametrize(
    ("text", "language", "said", "not_said"),
    [  # found by a live review: the whole policy, and no yes or no
        ("sender dere til finland?", "nb", "vi sender ikke til Finland", "79"),
        ("do you ship to the uk", "en", "we don't ship to the United Kingdom", "PostNord"),
        ("kan jeg betale med paypal", "nb", "vi tar ikke imot PayPal", "Ja,"),
        ("har dere fjellsko i str 42", "nb", "produktside", "Så leit"),  # stock: no complaint, no handoff
    ],
)
def test_a_direct_question_gets_a_direct_answer(
    stack: RasaStack, text: str, language: str, said: str, not_said: str
) -> None:
    reply = texts(stack.chat(conversation(), text, language=language))
    assert said in reply and not_said not in reply, reply


def test_return_end_to_end_in_norwegian(stack: RasaStack) -> None:
    token = sign_customer_token("C-1001")
    sender = conversation()
    asked = stack.chat(sender, "jeg vil sende tilbake noe jeg har kjøpt", token=token)
    assert "ordrenummeret" in texts(asked)
    items = stack.chat(sender, "10198", token=token)
    titles = [b["title"] for reply in items for b in reply.get("buttons", [])]
    assert "Løpesokker 3-pk" in titles and "Ullundertøy sett" in titles
    confirm = texts(stack.chat(sender, '/inform{"sku": "TS-1003"}', token=token))
    assert "Løpesokker 3-pk" in confirm and "gratis returetikett" in confirm
    done = texts(stack.chat(sender, "ja", token=token))
    assert "RMA-nummer: RMA-10198-" in done
    with session_scope() as session:
        stored = session.execute(select(ReturnRequest)).scalar_one()
    assert stored.rma in done and stored.skus == "TS-1003" and stored.conversation_id == sender
    # The other item's button after the return ended: the bot's last message no longer offers it (nor does
    # the widget show it), so the gateway's channel reads it as typed text, never as a choice of item.
    stale = texts(stack.chat(sender, '/inform{"sku": "TS-1002"}', token=token))
    assert "Ullundertøy sett" not in stale and "returetikett" not in stale and "RMA-nummer" not in stale
    with session_scope() as session:
        assert session.execute(select(ReturnRequest)).scalar_one().rma == stored.rma  # nothing more registered


def test_ineligible_return_says_why(stack: RasaStack) -> None:
    token = sign_customer_token("C-1002")
    sender = conversation()
    reply = texts(stack.chat(sender, "I'd like to return order 10177", token=token, language="en"))
    assert "outlet" in reply


def test_points_signed_in_and_anonymous(stack: RasaStack) -> None:
    reply = texts(stack.chat(conversation(), "hvor mange poeng har jeg?", token=sign_customer_token("C-1002")))
    assert "340 poeng" in reply and "34 kr" in reply and "Bronse" in reply and "1 160" in reply
    anonymous = texts(stack.chat(conversation(), "how many points have I got?", language="en"))
    assert "sign in" in anonymous


def test_asking_for_a_person_stores_a_handoff(stack: RasaStack) -> None:
    sender = conversation()
    reply = stack.chat(sender, "kan jeg få snakke med et menneske?", token=sign_customer_token("C-1003"))
    # Honest about what happens next: a place in the queue, or no one there now (closed, or no agent free).
    assert any(words in texts(reply) for words in ("køen", "Vi åpner", "Ingen i kundeservice er ledige")), reply
    with session_scope() as session:
        request = session.execute(select(HandoffRequest).where(HandoffRequest.conversation_id == sender)).scalar_one()
    assert (request.customer_id, request.reason) == ("C-1003", "requested")


def test_a_restart_loses_no_conversation(stack: RasaStack) -> None:
    """The SQL tracker store keeps a half-finished form across a Rasa restart."""
    sender = conversation()
    assert "e-mail" in texts(stack.chat(sender, "where is order 10234?", language="en"))
    stack.stop("rasa")
    stack.start("rasa")
    stack.wait_healthy("rasa")
    reply = texts(stack.chat(sender, "kari.nordmann@example.no", language="en"))
    assert "70712345678901234" in reply
