"""Rasa's SQL tracker store reads the same events with our two-query session lookup (bot/tracker_query.py)
as with Rasa's own query: on SQLite and on PostgreSQL, for the latest session and for all of them; and
stores the same rows, and publishes the same events to the event broker, with our save (counting once,
one transaction, the count taken from the read that began the turn) as with Rasa's."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import PROJECT_ROOT
from bot.store.postgres_admin import scratch_database
from bot.tracker_query import STORED_IN_SESSION, latest_session_events, retrieve_latest_session, save_new_events
from tests.conftest import POSTGRES_URL

RASAS_QUERY = SQLTrackerStore._event_query  # this test process never installs bot/rasa_main.py's patches


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path, domain: Domain) -> Iterator[SQLTrackerStore]:
    if request.param == "sqlite":
        yield SQLTrackerStore(domain, host=f"sqlite:///{tmp_path / 'tracker.db'}")
        return
    with scratch_database("varde_tracker_query", POSTGRES_URL) as url:
        store = SQLTrackerStore(domain, host=url)
        yield store
        store.engine.dispose()


def session(number: int, turns: int) -> list[Event]:
    start: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("language", "nb")]
    chat: list[Event] = [ActionExecuted("action_listen")]
    for turn in range(turns):
        chat += [UserUttered(f"melding {number}.{turn}", {"name": "greet"}), ActionExecuted("utter_greet")]
        chat.append(ActionExecuted("action_listen"))
    return start + chat


def stored(store: SQLTrackerStore, domain: Domain, sender: str, sessions: list[list[Event]]) -> None:
    """Saved the way Rasa saves them: each new session's events saved on the tracker Rasa read before it."""
    tracker = DialogueStateTracker.from_events(sender, [], domain.slots)
    for events in sessions:
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        tracker = asyncio.run(store.retrieve(sender)) or tracker


def ids(query: Any) -> list[int]:  # a SQLAlchemy Query, as Rasa's callers take it
    return [row.id for row in query.all()]


def test_the_same_events_as_rasas_query(store: SQLTrackerStore, domain: Domain) -> None:
    stored(store, domain, "long", [session(1, 6), session(2, 4), session(3, 2)])
    stored(store, domain, "other", [session(1, 3)])
    with store.session_scope() as db:
        for sender in ("long", "other", "nobody"):
            for all_sessions in (False, True):
                ours = latest_session_events(store, db, sender, all_sessions)
                theirs = RASAS_QUERY(store, db, sender, all_sessions)
                assert ids(ours) == ids(theirs), (sender, all_sessions)
                assert ours.count() == theirs.count()
        latest = [row.type_name for row in latest_session_events(store, db, "long", False).all()]
    assert latest[0] == "session_started" and latest.count("user") == 2  # the third session only


def test_a_conversation_without_a_session_start_reads_all_its_events(store: SQLTrackerStore, domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("old", [], domain.slots)
    for event in session(1, 3)[2:]:  # no session_started: as before sessions existed
        tracker.update(event)
    asyncio.run(store.save(tracker))
    with store.session_scope() as db:
        ours = ids(latest_session_events(store, db, "old", False))
        assert ours == ids(RASAS_QUERY(store, db, "old", False))
        assert len(ours) == len(tracker.events)


def test_rasa_reads_the_latest_session_through_it(store: SQLTrackerStore, domain: Domain) -> None:
    stored(store, domain, "long", [session(1, 5), session(2, 2)])
    original = SQLTrackerStore._event_query
    try:
        SQLTrackerStore._event_query = latest_session_events
        tracker = asyncio.run(store.retrieve("long"))
        everything = asyncio.run(store.retrieve_full_tracker("long"))
    finally:
        SQLTrackerStore._event_query = original
    assert tracker is not None and everything is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["melding 2.0", "melding 2.1"]
    assert len([e for e in everything.events if isinstance(e, UserUttered)]) == 7


class CapturingBroker:
    """Stands in for RabbitMQ: what the tracker store publishes, in order."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def rows(store: SQLTrackerStore, sender: str) -> list[tuple[Any, ...]]:
    """Every stored event of `sender`, as Rasa's columns, without the id and the sender."""
    with store.session_scope() as db:
        found = RASAS_QUERY(store, db, sender, True).all()
        return [(r.type_name, r.timestamp, r.intent_name, r.action_name, r.data) for r in found]


def test_our_save_stores_and_publishes_what_rasas_does(store: SQLTrackerStore, domain: Domain) -> None:
    conversation = [session(1, 4), session(2, 3), session(3, 1)]
    store.event_broker = CapturingBroker()
    stored(store, domain, "same", conversation)  # Rasa's save: reads the session back for the broker
    rasas = store.event_broker.published
    rasas_rows = rows(store, "same")

    with store.session_scope() as db:  # the same conversation again, from nothing, saved our way
        db.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "same").delete()
        db.commit()
    store.event_broker = CapturingBroker()
    store.save = types.MethodType(save_new_events, store)
    stored(store, domain, "same", conversation)
    ours = store.event_broker.published

    assert ours == rasas
    assert rows(store, "same") == rasas_rows
    assert [e["event"] for e in ours] == [row[0] for row in rasas_rows]  # every stored event published once


def test_without_an_event_broker_our_save_stores_the_same(store: SQLTrackerStore, domain: Domain) -> None:
    store.event_broker = None
    conversation = [session(1, 2), session(2, 2)]
    stored(store, domain, "rasa", conversation)
    store.save = types.MethodType(save_new_events, store)
    stored(store, domain, "ours", conversation)
    assert rows(store, "ours") == rows(store, "rasa")


def ours(store: SQLTrackerStore) -> SQLTrackerStore:
    """The store as bot/rasa_main.py installs it on Rasa's: our session query, read and save."""
    store._event_query = types.MethodType(latest_session_events, store)
    store._retrieve = types.MethodType(retrieve_latest_session, store)
    store.save = types.MethodType(save_new_events, store)
    return store


def test_our_read_gives_rasas_tracker_and_notes_how_many_events_are_stored(
    store: SQLTrackerStore, domain: Domain
) -> None:
    stored(store, domain, "long", [session(1, 4), session(2, 3)])
    rasas, rasas_all = asyncio.run(store.retrieve("long")), asyncio.run(store.retrieve_full_tracker("long"))
    ours(store)
    tracker, everything = asyncio.run(store.retrieve("long")), asyncio.run(store.retrieve_full_tracker("long"))
    assert tracker.current_state() == rasas.current_state()
    assert everything.current_state() == rasas_all.current_state()
    with store.session_scope() as db:
        assert getattr(tracker, STORED_IN_SESSION) == latest_session_events(store, db, "long", False).count()
    assert not hasattr(everything, STORED_IN_SESSION)  # all sessions: not what a save compares with
    assert asyncio.run(store.retrieve("nobody")) is None


def test_saving_what_was_read_stores_and_publishes_what_rasas_save_does(store: SQLTrackerStore, domain: Domain) -> None:
    """Each session saved on the tracker read before it, so the remembered count decides what is new."""
    conversation = [session(1, 4), session(2, 3), session(3, 1)]
    store.event_broker = CapturingBroker()
    stored(store, domain, "rasa", conversation)
    rasas = [{k: v for k, v in e.items() if k != "sender_id"} for e in store.event_broker.published]
    ours(store).event_broker = CapturingBroker()
    stored(store, domain, "ours", conversation)
    assert [{k: v for k, v in e.items() if k != "sender_id"} for e in store.event_broker.published] == rasas
    assert rows(store, "ours") == rows(store, "rasa")


def test_a_tracker_saved_twice_stores_each_event_once(store: SQLTrackerStore, domain: Domain) -> None:
    """The count read with a tracker serves its first save only: a second save of it counts again."""
    stored(store, domain, "twice", [session(1, 2)])
    ours(store)
    tracker = asyncio.run(store.retrieve("twice"))
    before = len(rows(store, "twice"))
    tracker.update(UserUttered("en til", {"name": "greet"}))
    asyncio.run(store.save(tracker))
    tracker.update(ActionExecuted("utter_greet"))
    asyncio.run(store.save(tracker))
    after = rows(store, "twice")
    assert len(after) == before + 2
    assert [row[0] for row in after[-2:]] == ["user", "action"]


def test_our_read_of_a_conversation_without_a_session_start_gives_all_its_events(
    store: SQLTrackerStore, domain: Domain
) -> None:
    tracker = DialogueStateTracker.from_events("old", [], domain.slots)
    for event in session(1, 3)[2:]:  # no session_started: as before sessions existed
        tracker.update(event)
    asyncio.run(store.save(tracker))
    rasas = asyncio.run(store.retrieve("old"))
    read = asyncio.run(ours(store).retrieve("old"))
    assert read.current_state() == rasas.current_state()
    assert len(read.events) == len(tracker.events)


def test_a_turns_read_is_one_statement_outside_a_transaction(store: SQLTrackerStore, domain: Domain) -> None:
    stored(store, domain, "long", [session(1, 3), session(2, 2)])
    seen: list[tuple[str, bool]] = []

    def note(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        dbapi = connection.connection.dbapi_connection
        autocommit = dbapi.autocommit if hasattr(dbapi, "autocommit") else dbapi.isolation_level is None
        seen.append((statement, autocommit))

    sqlalchemy.event.listen(store.engine, "before_cursor_execute", note)
    try:
        tracker = asyncio.run(ours(store).retrieve("long"))
    finally:
        sqlalchemy.event.remove(store.engine, "before_cursor_execute", note)
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["melding 2.0", "melding 2.1"]
    assert len(seen) == 1 and seen[0][1], seen  # one SELECT, on a connection in autocommit mode


@pytest.mark.postgres
def test_postgresql_reads_the_session_start_once_per_read(domain: Domain) -> None:
    """Rasa's join had PostgreSQL look the start up again for every event (a nested loop); ours is an
    InitPlan, run once, never a SubPlan or a loop per event."""
    from bot.tracker_query import _statements

    with scratch_database("varde_tracker_plan", POSTGRES_URL) as url:
        store = SQLTrackerStore(domain, host=url)
        stored(store, domain, "long", [session(1, 6), session(2, 4)])
        read = _statements(store.SQLEvent)["latest"]
        compiled = read.compile(store.engine)
        with store.engine.connect() as connection:
            cursor = connection.connection.cursor()
            cursor.execute(f"EXPLAIN ANALYZE {compiled}".replace("%%", "%"), {**compiled.params, "sender": "long"})
            plan = "\n".join(line for (line,) in cursor.fetchall())
        store.engine.dispose()
    assert "InitPlan" in plan and "SubPlan" not in plan, plan
    assert "loops=1)" in plan and not any(f"loops={n})" in plan for n in range(2, 1000)), plan
