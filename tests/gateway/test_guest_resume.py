"""Issue 16, finding 1: a guest's conversation id is no password. Attack tests against the real gateway,
Rasa and database: only the browser that got the conversation's resume secret in its `welcome` may resume
it, or have a sign-in adopt it; the id alone (which agents, logs and Rasa see) opens a new, empty one."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest

from bot.identity import sign_customer_token
from bot.store.conversations import Conversation
from bot.store.db import session_scope
from tests.gateway.conftest import Gateway
from tests.gateway.console_client import ConsoleClient, queued_ids
from tests.gateway.test_socket import transcript
from tests.gateway.widget_client import WidgetClient, messages, texts
from tests.support import RasaStack, http_json, rasa_admin_token

pytestmark = pytest.mark.server

SECRET_TEXT = "mitt ordrenummer er 10234 og adressen min er Storgata 5"


async def guest_with_a_chat(gateway: Gateway, line: str = SECRET_TEXT) -> WidgetClient:
    widget = await gateway.widget()
    await widget.hello()
    await widget.turn(line)
    return widget


def owner_of(conversation_id: str) -> str | None:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.customer_id


async def test_an_agent_with_a_guests_id_from_the_console_gets_a_new_empty_conversation(desk: Gateway) -> None:
    anne = await ConsoleClient.logged_in(desk.url("/"), "agent.anne")
    await anne.set_available()
    await anne.connect()
    kari = await guest_with_a_chat(desk)
    await kari.turn("kan jeg få snakke med et menneske?")
    snapshot = await anne.snapshot_where(lambda s: kari.conversation_id in queued_ids(s))
    stored = len(transcript(kari.conversation_id))

    # Another agent, or anyone who saw the id, opens the widget's socket with it.
    spy = await desk.widget()
    welcome = await spy.hello(kari.conversation_id)
    assert welcome["conversation_id"] != kari.conversation_id
    assert welcome["state"] == "bot"
    seen = await spy.quiet_for(1.5)
    assert messages(seen) == [] and SECRET_TEXT not in json.dumps(spy.frames)
    # What the spy writes goes to the spy's own conversation, never into Kari's.
    await spy.turn("hei, dette er Kari")
    assert len(transcript(kari.conversation_id)) == stored
    assert all(m.text != "hei, dette er Kari" for m in transcript(kari.conversation_id))
    # Kari's own browser still resumes it, with everything in it.
    again = await desk.widget()
    resumed = await again.hello(kari.conversation_id, resume_secret=kari.resume_secret)
    assert resumed["conversation_id"] == kari.conversation_id
    assert SECRET_TEXT in texts(await again.quiet_for(1.5), role="customer")
    # The console shows the id (an opaque reference), never the resume secret.
    assert kari.resume_secret and kari.resume_secret not in json.dumps([*anne.frames, snapshot])
    for widget in (kari, spy, again):
        await widget.close()
    await anne.close()


async def test_a_guest_resumes_with_the_secret_from_its_welcome(gateway: Gateway) -> None:
    first = await gateway.widget()
    welcome = await first.hello()
    secret = welcome["resume_secret"]
    assert isinstance(secret, str) and len(secret) >= 43 and secret not in welcome["conversation_id"]
    await first.turn(SECRET_TEXT)
    rows = transcript(first.conversation_id)
    await first.close()

    reloaded = await gateway.widget()
    again = await reloaded.hello(first.conversation_id, resume_secret=secret)
    assert again["conversation_id"] == first.conversation_id
    assert "resume_secret" not in again  # sent once, when the conversation began
    shown = await reloaded.quiet_for(1.5)
    assert [(m["seq"], m["text"]) for m in messages(shown)] == [(r.seq, r.text) for r in rows]
    await reloaded.close()


@pytest.mark.parametrize("presented", [None, "", "x" * 43, "wrong-secret"], ids=["none", "empty", "guess", "wrong"])
async def test_a_guest_id_without_its_secret_starts_afresh(gateway: Gateway, presented: str | None) -> None:
    kari = await guest_with_a_chat(gateway)
    other = await gateway.widget()
    welcome = await other.hello(kari.conversation_id, last_seq=0, resume_secret=presented)
    assert welcome["conversation_id"] != kari.conversation_id
    assert welcome["resume_secret"] != kari.resume_secret  # its own, for its own new conversation
    assert messages(await other.quiet_for(1.0)) == []
    await other.close()
    await kari.close()


async def test_a_sign_in_adopts_a_guest_conversation_only_with_its_secret(gateway: Gateway) -> None:
    guest = await guest_with_a_chat(gateway)
    # Ola signs in somewhere else and presents the guest's id: he must not take the conversation over.
    ola = await gateway.widget()
    welcome = await ola.hello(guest.conversation_id, token=sign_customer_token("C-1002"))
    assert welcome["conversation_id"] != guest.conversation_id
    assert messages(await ola.quiet_for(1.0)) == []
    assert owner_of(guest.conversation_id) is None
    # The guest's own browser signs in as Kari: her chat becomes hers, history and all.
    kari = await gateway.widget()
    adopted = await kari.hello(
        guest.conversation_id, token=sign_customer_token("C-1001"), resume_secret=guest.resume_secret
    )
    assert adopted["conversation_id"] == guest.conversation_id
    assert SECRET_TEXT in texts(await kari.quiet_for(1.5), role="customer")
    assert owner_of(guest.conversation_id) == "C-1001"
    # From now on the token decides: Ola, even with the secret, gets nothing of Kari's.
    late = await gateway.widget()
    refused = await late.hello(
        guest.conversation_id, token=sign_customer_token("C-1002"), resume_secret=guest.resume_secret
    )
    assert refused["conversation_id"] != guest.conversation_id
    for widget in (guest, ola, kari, late):
        await widget.close()


async def test_the_secret_is_stored_hashed_and_never_logged_nor_sent_to_rasa(
    gateway: Gateway, warm_stack: RasaStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    widget = await guest_with_a_chat(gateway)
    secret = widget.resume_secret
    assert secret
    again = await gateway.widget()
    await again.hello(widget.conversation_id, resume_secret=secret)
    await again.turn("takk, det var alt")
    await again.hello(widget.conversation_id, resume_secret="not it")  # a refused resume is logged too
    with session_scope() as session:
        stored = session.get(Conversation, widget.conversation_id)
        assert stored is not None
        assert stored.resume_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps({c.name: str(getattr(stored, c.name)) for c in Conversation.__table__.c})
    assert secret not in caplog.text
    for log in ("rasa", "actions"):
        assert secret not in warm_stack.log_text(log)
    token = rasa_admin_token(warm_stack.env["BOT_RASA_JWT_SECRET"])
    tracker = http_json(
        f"{warm_stack.rasa_url}/conversations/{widget.conversation_id}/tracker",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert tracker["events"] and secret not in json.dumps(tracker)
    await widget.close()
    await again.close()
