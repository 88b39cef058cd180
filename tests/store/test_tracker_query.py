"""Rasa's SQL tracker store reads the same events with our two-query session lookup (bot/tracker_query.py)
as with Rasa's own query: on SQLite and on PostgreSQL, for the latest session and for all of them; and
publishes the same events to the event broker when it counts the stored ones instead of reading them."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import PROJECT_ROOT
from bot.store.postgres_admin import scratch_database
from bot.tracker_query import latest_session_events, stream_new_events
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


def test_the_event_broker_gets_the_same_new_events_as_with_rasas_own(store: SQLTrackerStore, domain: Domain) -> None:
    conversation = [session(1, 4), session(2, 3), session(3, 1)]
    store.event_broker = CapturingBroker()
    stored(store, domain, "rasa", conversation)  # Rasa's stream_events: reads the session back
    rasas = [{k: v for k, v in e.items() if k != "sender_id"} for e in store.event_broker.published]

    store.event_broker = CapturingBroker()
    store.stream_events = types.MethodType(stream_new_events, store)
    stored(store, domain, "ours", conversation)
    ours = [{k: v for k, v in e.items() if k != "sender_id"} for e in store.event_broker.published]

    assert ours == rasas
    assert {e["sender_id"] for e in store.event_broker.published} == {"ours"}
    # every stored event published once, in the order stored
    with store.session_scope() as db:
        rows = [row.type_name for row in RASAS_QUERY(store, db, "ours", True).all()]
    assert [e["event"] for e in ours] == rows


def test_nothing_is_counted_without_an_event_broker(store: SQLTrackerStore, domain: Domain) -> None:
    store.event_broker = None
    tracker = DialogueStateTracker.from_events("quiet", session(1, 2), domain.slots)
    store.session_scope = None  # any database access would fail
    asyncio.run(stream_new_events(store, tracker))
