"""A long conversation gets a new Rasa session at rest, and the customer loses nothing by it
(bot/session_rollover.py). A Rasa server of its own, with sessions of 3 messages, beside the run's action
server and database: the real server, the real action server, Rasa's SQL tracker store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.identity import sign_customer_token
from bot.store.db import session_scope
from bot.store.models import HandoffRequest, ReturnRequest
from bot.store.seed import seed_demo
from tests.conftest import RUN_DIR
from tests.support import RasaStack, free_port, http_json, rasa_admin_token, texts

pytestmark = pytest.mark.server

MAX_TURNS = 3


@pytest.fixture(scope="module")
def short_sessions(rasa_stack: RasaStack) -> Iterator[RasaStack]:
    log_dir = RUN_DIR / "short-sessions"
    log_dir.mkdir(exist_ok=True)
    env = {**rasa_stack.env, "BOT_SESSION_MAX_TURNS": str(MAX_TURNS)}
    stack = RasaStack(env=env, rasa_port=free_port(), actions_port=rasa_stack.actions_port, log_dir=log_dir)
    stack.start("rasa")
    try:
        stack.wait_healthy("rasa")
        yield stack
    finally:
        stack.stop("rasa")


@pytest.fixture
def stack(short_sessions: RasaStack) -> RasaStack:
    seed_demo()
    return short_sessions


def conversation() -> str:
    return f"rollover-{uuid.uuid4().hex[:12]}"


def sessions(stack: RasaStack, sender: str) -> int:
    """How many sessions Rasa's tracker store holds for the conversation."""
    headers = {"Authorization": f"Bearer {rasa_admin_token(stack.env['BOT_RASA_JWT_SECRET'])}"}
    tracker: dict[str, Any] = http_json(
        f"{stack.rasa_url}/conversations/{sender}/tracker?include_events=ALL", None, headers
    )
    return sum(event.get("event") == "session_started" for event in tracker["events"])


def test_a_long_conversation_starts_a_new_session_and_keeps_its_language(stack: RasaStack) -> None:
    """An English customer on a Norwegian page: the language slot goes over into the new session, so a
    one-word thank-you (too short to switch the language) is still answered in English."""
    sender = conversation()
    for text in ("how long does delivery take?", "which payment methods do you accept?", "when are you open?"):
        stack.chat(sender, text, language="nb")
    assert sessions(stack, sender) == 1
    reply = texts(stack.chat(sender, "thanks!", language="nb"))
    assert sessions(stack, sender) == 2
    assert "You're welcome" in reply, reply


def test_no_new_session_while_the_form_shows_buttons(stack: RasaStack) -> None:
    """A signed-in customer's return form offers buttons at every question (orders, items, yes/no): past the
    session's length, with a question in the middle, the session goes on until the return is registered,
    so every click is taken. The new session starts at the next message."""
    token = sign_customer_token("C-1001")
    sender = conversation()
    stack.chat(sender, "hei", token=token)
    stack.chat(sender, "hvor lang tid tar frakten?", token=token)
    assert "ordrenummeret" in texts(stack.chat(sender, "jeg vil sende tilbake noe jeg har kjøpt", token=token))
    items = stack.chat(sender, "10198", token=token)
    assert "Løpesokker 3-pk" in [b["title"] for reply in items for b in reply.get("buttons", [])]
    stack.chat(sender, "hvor lang tid tar frakten?", token=token)
    assert sessions(stack, sender) == 1
    confirm = texts(stack.chat(sender, '/inform{"sku": "TS-1003"}', token=token))
    assert "Løpesokker 3-pk" in confirm and "gratis returetikett" in confirm
    done = texts(stack.chat(sender, "ja", token=token))
    assert "RMA-nummer: RMA-10198-" in done
    with session_scope() as session:
        stored = session.execute(select(ReturnRequest).where(ReturnRequest.conversation_id == sender)).scalar_one()
    assert stored.skus == "TS-1003"
    assert sessions(stack, sender) == 1
    stack.chat(sender, "takk", token=token)
    assert sessions(stack, sender) == 2


def test_an_order_question_left_waiting_is_answered_after_a_new_session(stack: RasaStack) -> None:
    """A guest asks about an order, chats about other things while the form waits for the order number,
    and gives it after the session has started again: the answer is the order's status."""
    sender = conversation()
    assert "ordrenummeret" in texts(stack.chat(sender, "hvor er pakka mi?"))
    stack.chat(sender, "hvor lang tid tar frakten?")
    stack.chat(sender, "når har kundeservice åpent?")
    assert sessions(stack, sender) == 1
    # The form asks its question again after each answer: it is still waiting, in the new session too.
    thanked = texts(stack.chat(sender, "takk for hjelpen"))
    assert sessions(stack, sender) == 2
    assert "Bare hyggelig" in thanked and "ordrenummeret" in thanked, thanked
    stack.chat(sender, "10234")
    status = texts(stack.chat(sender, "kari.nordmann@example.no"))
    assert "70712345678901234" in status, status


def test_two_misunderstandings_in_a_row_still_reach_a_person(stack: RasaStack) -> None:
    """The second misunderstanding comes when the session is long enough to start again; it must not, or the
    count of misunderstood messages would start from zero and the customer would be asked to rephrase."""
    token = sign_customer_token("C-1003")
    sender = conversation()
    stack.chat(sender, "hei", token=token)
    stack.chat(sender, "hvor lang tid tar frakten?", token=token)
    stack.chat(sender, "blorf snibbet kvakk", token=token)
    stack.chat(sender, "florp zibbel wonk", token=token)
    assert sessions(stack, sender) == 1
    with session_scope() as session:
        request = session.execute(select(HandoffRequest).where(HandoffRequest.conversation_id == sender)).scalar_one()
    assert request.reason == "misunderstood"
