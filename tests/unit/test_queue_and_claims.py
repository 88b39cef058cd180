"""The queue's order, the customer's place in it, and claims: exactly one agent wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.services import assignment, queue
from bot.services.handoff import request_handoff
from bot.services.staff import PRESENCE_WINDOW, available_agents, mark_seen, set_availability
from bot.store import migrate
from bot.store.conversations import Conversation
from bot.store.db import create_schema, get_engine, session_scope
from bot.store.models import HandoffRequest, utcnow
from bot.store.postgres_admin import scratch_database
from bot.store.seed import seed_demo
from bot.store.staff import StaffUser
from tests.conftest import POSTGRES_URL


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Per database kind, the demo shop seeded once for this file (on first use), for the tests to copy:
    seeding a new database (migrations, then shop.yml) took 0.3 s on SQLite and 0.8 s on PostgreSQL; a copy
    takes a few milliseconds on SQLite and 0.1 s on PostgreSQL (CREATE DATABASE ... TEMPLATE)."""
    made: dict[str, str] = {}
    with ExitStack() as stack:

        def template(kind: str) -> str:
            if kind not in made:
                if kind == "sqlite":
                    url = f"sqlite:///{tmp_path_factory.mktemp('desk-template') / 'desk.db'}"
                else:
                    url = stack.enter_context(scratch_database("varde_desk_template", POSTGRES_URL))
                seed_demo(url)
                get_engine(url).dispose()  # PostgreSQL copies only a database no one is connected to
                made[kind] = url
            return made[kind]

        yield template


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path, seeded: Callable[[str], str]) -> Iterator[str]:
    """A freshly seeded demo shop of this test's own (a copy of the file's seeded one): on PostgreSQL a new
    database, so other runs on the server are untouched."""
    template = seeded(request.param)
    if request.param == "sqlite":
        path = tmp_path / "desk.db"
        source = sqlite3.connect(template.removeprefix("sqlite:///"))
        with closing(source), closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        yield f"sqlite:///{path}"
        return
    with scratch_database("varde_desk", POSTGRES_URL, template=make_url(template).database) as url:
        yield url


def queued(
    url: str, conversation_id: str, customer_id: str | None, minutes_ago: int, reason: str = "requested"
) -> None:
    with session_scope(url) as session:
        session.add(Conversation(id=conversation_id, customer_id=customer_id, language="nb", state="bot", last_seq=0))
        session.flush()
        request_handoff(session, conversation_id, customer_id, reason, "nb", f"hjelp fra {conversation_id}")
        assert assignment.enqueue(session, conversation_id)
        session.get(Conversation, conversation_id).queued_at = utcnow() - timedelta(minutes=minutes_ago)


def test_gold_first_then_silver_then_bronze_and_guests_by_waiting_time(database: str) -> None:
    # C-1001 Kari is gull, C-1003 Emma sølv, C-1002 Ola bronse (shop.yml).
    queued(database, "guest-long", None, minutes_ago=30)
    queued(database, "ola", "C-1002", minutes_ago=20)
    queued(database, "emma", "C-1003", minutes_ago=5)
    queued(database, "kari", "C-1001", minutes_ago=1, reason="complaint")
    queued(database, "guest-new", None, minutes_ago=2)
    with session_scope(database) as session:
        order = [entry.conversation_id for entry in queue.waiting(session)]
        assert order == ["kari", "emma", "guest-long", "ola", "guest-new"]
        kari = queue.waiting(session)[0]
        assert (kari.customer_name, kari.tier, kari.reason, kari.last_message) == (
            "Kari Nordmann",
            "gull",
            "complaint",
            "hjelp fra kari",
        )
        # The place a customer is told is the place agents see; a newcomer is counted as waiting now.
        assert queue.position(session, "ola", "C-1002") == 4
        assert queue.position(session, "new-gold", "C-1001") == 2  # behind Kari, ahead of everyone else
        assert queue.position(session, "new-guest", None) == 6


def test_the_wait_is_the_conversations_ahead_shared_by_the_agents_at_work() -> None:
    assert queue.estimated_wait_minutes(1, 1) == 3
    assert queue.estimated_wait_minutes(4, 2) == 6
    assert queue.estimated_wait_minutes(1, 5) == 2  # never "1 minutes", never nothing
    assert queue.estimated_wait_minutes(3, 0) == 9  # no one available yet: counted as one


def race_claims(url: str, conversation_id: str, usernames: list[str]) -> list[assignment.ClaimOutcome]:
    """Each agent claims on a thread and a connection of their own, all released at the same instant."""
    barrier = threading.Barrier(len(usernames))
    outcomes: list[assignment.ClaimOutcome] = []

    def claim(username: str) -> None:
        barrier.wait()
        with session_scope(url) as session:
            outcomes.append(assignment.claim(session, conversation_id, username))

    threads = [threading.Thread(target=claim, args=(username,)) for username in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_agents_claiming_at_the_same_moment_exactly_one_wins(database: str) -> None:
    agents = ["agent.anne", "agent.per"] * 4
    for round_ in range(5):
        conversation_id = f"race-{round_}"
        queued(database, conversation_id, None, minutes_ago=0)
        outcomes = race_claims(database, conversation_id, agents)
        winners = [o for o in outcomes if o.won]
        assert len(outcomes) == len(agents) and len(winners) == 1
        holder = winners[0].holder
        # Every loser is told who has it.
        assert all(o.state == "agent" and o.holder == holder for o in outcomes)
        assert {o.holder_name for o in outcomes} == {"Anne" if holder == "agent.anne" else "Per"}
        with session_scope(database) as session:
            conversation = session.get(Conversation, conversation_id)
            assert (conversation.state, conversation.agent_username) == ("agent", holder)
            request = session.execute(
                select(HandoffRequest).where(HandoffRequest.conversation_id == conversation_id)
            ).scalar_one()
            assert (request.status, request.agent_username) == ("claimed", holder)


def test_only_the_holder_hands_back_or_closes_and_sees_the_conversation(database: str) -> None:
    queued(database, "c1", "C-1001", minutes_ago=0)
    with session_scope(database) as session:
        assert assignment.claim(session, "c1", "agent.anne").won
        assert not assignment.claim(session, "c1", "agent.per").won
        assert assignment.may_view(session, "c1", "agent.anne")
        assert not assignment.may_view(session, "c1", "agent.per")
        assert assignment.release(session, "c1", "agent.per", "bot") is None
        released = assignment.release(session, "c1", "agent.anne", "bot")
        assert released is not None and released.state == "bot" and released.claimed_at is not None
        assert assignment.release(session, "c1", "agent.anne", "bot") is None  # once
        # Anne keeps seeing the conversation she had; Per never had it.
        assert assignment.may_view(session, "c1", "agent.anne")
        assert not assignment.may_view(session, "c1", "agent.per")
        assert not assignment.holds(session, "c1", "agent.anne")

    # Queued again, Per has it this time and closes it with a resolution.
    with session_scope(database) as session:
        request_handoff(session, "c1", "C-1001", "frustration", "nb", "!!!", detail="shouting")
        assert assignment.enqueue(session, "c1")
        assert assignment.claim(session, "c1", "agent.per").won
        with pytest.raises(ValueError):
            assignment.release(session, "c1", "agent.per", "closed", resolution="whatever")
        assert assignment.release(session, "c1", "agent.per", "closed", resolution="solved", note="refund sent")
        assert session.get(Conversation, "c1").state == "closed"
        assert assignment.reopen(session, "c1")
        assert session.get(Conversation, "c1").state == "bot"


def test_available_agents_said_so_and_have_their_console_open(database: str) -> None:
    def available(session: Session) -> list[str]:
        return sorted(user.username for user in available_agents(session))

    with session_scope(database) as session:
        for user in session.execute(select(StaffUser)).scalars():
            user.availability = "away"
            user.last_seen_at = None
        assert available(session) == []
        set_availability(session, "agent.per", "available")
        set_availability(session, "trainer.tor", "available")  # not an agent
        assert available(session) == ["agent.per"]
        # Per closed the browser without logging out: after a while he no longer counts.
        session.get(StaffUser, "agent.per").last_seen_at = utcnow() - PRESENCE_WINDOW - timedelta(seconds=1)
        assert available(session) == []
        mark_seen(session, "agent.per")  # his console is open again
        assert available(session) == ["agent.per"]


def test_an_older_database_gets_the_new_columns(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = get_engine(url)
    with engine.begin() as connection:  # the conversations table as the first release made it
        connection.execute(
            text(
                "CREATE TABLE conversations (id VARCHAR(64) PRIMARY KEY, customer_id VARCHAR(20), "
                "language VARCHAR(5) NOT NULL, state VARCHAR(10) NOT NULL, last_seq INTEGER NOT NULL, "
                "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)"
            )
        )
        connection.execute(
            text("INSERT INTO conversations VALUES ('old', NULL, 'nb', 'bot', 3, :at, :at)"),
            {"at": "2026-11-01 12:00:00.000000"},
        )
    create_schema(url)
    assert migrate.current(url) == migrate.head()  # adopted by the first migration, which added the columns
    with session_scope(url) as session:
        old = session.get(Conversation, "old")
        assert (old.last_seq, old.agent_username, old.queued_at) == (3, None, None)
        assert assignment.enqueue(session, "old")


def seen(url: str, username: str, minutes_ago: float, availability: str = "available") -> None:
    with session_scope(url) as session:
        user = session.get(StaffUser, username)
        user.availability, user.last_seen_at = availability, utcnow() - timedelta(minutes=minutes_ago)


def test_a_chat_held_by_an_agent_who_is_gone_goes_back_to_the_queue_in_its_old_place(database: str) -> None:
    queued(database, "kari", "C-1001", minutes_ago=12)
    queued(database, "early-guest", None, minutes_ago=20)
    with session_scope(database) as session:
        assert assignment.claim(session, "kari", "agent.anne").won
        assert assignment.claim(session, "early-guest", "agent.per").won
        queued_at = session.get(Conversation, "kari").queued_at
    seen(database, "agent.anne", minutes_ago=6)  # her console closed 6 minutes ago
    seen(database, "agent.per", minutes_ago=0.2)  # his is open
    gone_since = utcnow() - timedelta(minutes=5)
    with session_scope(database) as session:
        assert assignment.held_by_absent_agents(session, gone_since) == [("kari", "agent.anne")]
        left = assignment.take_back(session, "kari", "agent.anne", gone_since, in_hours=True)
        assert (left.state, left.place, left.agent_name, left.language) == ("queued", 1, "Anne", "nb")
        assert left.claimed_at is not None
        assert assignment.take_back(session, "kari", "agent.anne", gone_since, in_hours=True) is None  # once
    with session_scope(database) as session:
        kari = session.get(Conversation, "kari")
        assert (kari.state, kari.agent_username, kari.queued_at) == ("queued", None, queued_at)
        requests = session.execute(
            select(HandoffRequest.status, HandoffRequest.agent_username, HandoffRequest.reason)
            .where(HandoffRequest.conversation_id == "kari")
            .order_by(HandoffRequest.id)
        ).all()
        assert [tuple(r) for r in requests] == [
            ("agent_left", "agent.anne", "requested"),
            ("waiting", None, "requested"),
        ]
        assert [e.conversation_id for e in queue.waiting(session)] == ["kari"]
        assert assignment.may_view(session, "kari", "agent.anne")  # what she had, she may still read
        assert assignment.claim(session, "kari", "agent.per").won


def test_with_no_other_agent_at_work_or_out_of_hours_the_bot_takes_the_chat_back(database: str) -> None:
    for conversation_id in ("alone", "after-hours"):
        queued(database, conversation_id, None, minutes_ago=1)
        with session_scope(database) as session:
            assert assignment.claim(session, conversation_id, "agent.anne").won
    seen(database, "agent.anne", minutes_ago=10)
    seen(database, "agent.per", minutes_ago=10)  # gone too: he can't take over
    gone_since = utcnow() - timedelta(minutes=5)
    with session_scope(database) as session:
        left = assignment.take_back(session, "alone", "agent.anne", gone_since, in_hours=True)
        assert (left.state, left.place) == ("bot", 0)
    seen(database, "agent.per", minutes_ago=0)
    with session_scope(database) as session:
        left = assignment.take_back(session, "after-hours", "agent.anne", gone_since, in_hours=False)
        assert left.state == "bot"
        for conversation_id in ("alone", "after-hours"):
            assert session.get(Conversation, conversation_id).state == "bot"
            statuses = session.scalars(
                select(HandoffRequest.status).where(HandoffRequest.conversation_id == conversation_id)
            ).all()
            assert sorted(statuses) == ["agent_left", "unattended"]
