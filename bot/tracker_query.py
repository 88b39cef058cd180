"""Rasa's SQL tracker store: a conversation's latest session read with the session start as a subquery the
database evaluates once (or as two plain queries, where Rasa's callers take a Query), and the events for
the event broker found by counting, not by reading the session back.

Rasa 3.6 finds the latest session with one query: the conversation's events, joined to a subquery for
the newest `session_started` timestamp. On PostgreSQL the planner, estimating one row for a
conversation (always so on a table not yet analysed, and often for one long conversation among many
short ones), runs that subquery once per event of the conversation: a nested loop that scans all of the
conversation's events for each of them. Measured in `python -m bot bench --length`: 160 ms for one
read at 1 324 events, on every turn twice (the turn's tracker, then the event broker's comparison), and
PostgreSQL at half of the machine's CPU; it grew with the whole conversation, not the session.

Here the newest session start is read once, and the events are filtered by it: each query reads the
conversation's events once. A turn's read (`retrieve_latest_session`) is that one statement,
outside a transaction; `latest_session_events` reads the start first, as a number, and returns a
SQLAlchemy Query, as Rasa's other callers (`.all()`, `.count()`) expect. Both give the same rows in the
same order as Rasa's query (tests/store/test_tracker_query.py, on SQLite and PostgreSQL).

Rasa's save, with an event broker (the scaled stack's RabbitMQ), first read the whole session back and
rebuilt a tracker from it only to count its events (the ones after are new, and published), then counted
them again in a second transaction to store the same new events, each through the ORM's unit of work.
`save_new_events` counts once, publishes and stores those events in one transaction, with one
multi-row INSERT: the same rows, the same events published in the same order (tests/store/
test_tracker_query.py against Rasa's own save). Profiled on the scaled stack, the read was about a tenth
of a Rasa server's Python time, the two counts another twentieth.

The count itself is known when the turn began: `retrieve_latest_session` (SQLTrackerStore._retrieve) notes
on the tracker how many events of its latest session it read, and the save of that tracker takes that
number instead of asking the database again (two queries of a turn's seven; 6 % of a profiled Rasa
server's samples). Any other tracker (a new one, a copy, a second save of the same one) is counted as before.
"""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any


@functools.cache
def _statements(event: Any) -> dict[str, Any]:
    """The reads of one SQLEvent class, built once: SQLAlchemy keeps a built statement's cache key, where a
    statement built per call, through the ORM's Query, is keyed and its rows made into objects every time."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    # On the table, not the mapped class: an ORM-enabled statement is compiled again for each execution.
    events = event.__table__.c
    sender = sa.bindparam("sender")
    starts = sa.alias(event.__table__, "session_starts")  # its own name: never correlated with the outer read
    started = sa.select(sa.func.max(starts.c.timestamp).label("at")).where(
        starts.c.sender_id == sender, starts.c.type_name == SessionStarted.type_name
    )
    # Uncorrelated, so evaluated once per read (PostgreSQL: an InitPlan each time it is named); a CTE would
    # be inlined by PostgreSQL and evaluated once per event, as in Rasa's join.
    start = started.scalar_subquery()
    return {
        "started": started,
        "all": sa.select(events.data).where(events.sender_id == sender).order_by(events.id),
        # The latest session in one statement; no start yet: every event.
        "latest": sa.select(events.data)
        .where(events.sender_id == sender, sa.or_(start.is_(None), events.timestamp >= start))
        .order_by(events.id),
        "insert": sa.insert(event.__table__),
    }


def _session_start(self: Any, session: Any, sender_id: str) -> float | None:
    """When the conversation's latest session started; None before its first `session_started`."""
    return session.execute(_statements(self.SQLEvent)["started"], {"sender": sender_id}).scalar_one()


def latest_session_events(self: Any, session: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """SQLTrackerStore._event_query: the conversation's events, by id; only its latest session's unless
    `fetch_events_from_all_sessions` (all of them when it has no `session_started` yet)."""
    event = self.SQLEvent
    query = session.query(event).filter(event.sender_id == sender_id)
    if not fetch_events_from_all_sessions:
        started = _session_start(self, session, sender_id)
        if started is not None:
            query = query.filter(event.timestamp >= started)
    return query.order_by(event.id)


# Set by retrieve_latest_session, taken by the next save: events of its latest session the store held.
STORED_IN_SESSION = "_varde_stored_in_session"


async def retrieve_latest_session(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """SQLTrackerStore._retrieve, noting on a latest-session tracker how many of its events are stored.
    The same events as _event_query's, read as their data column only."""
    from rasa.shared.core.trackers import DialogueStateTracker

    statements = _statements(self.SQLEvent)
    with self.session_scope() as session:
        # One statement, so no transaction: none to begin and roll back (two round trips, each one waited
        # for on the Rasa server's event loop, as Rasa's stores are synchronous).
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        read = statements["all" if fetch_events_from_all_sessions else "latest"]
        events = [json.loads(data) for data in session.execute(read, {"sender": sender_id}).scalars()]
    if not self.domain or not events:
        return None
    tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    if not fetch_events_from_all_sessions:
        setattr(tracker, STORED_IN_SESSION, len(events))
    return tracker


async def save_new_events(self: Any, tracker: Any) -> None:
    """SQLTrackerStore.save: stores, and publishes to the event broker if there is one, the tracker's events
    after those already stored in its latest session.

    The turn holds the conversation's lock from its read to this save, so nothing else stores events between
    the count (taken when it was read, see STORED_IN_SESSION) and the insert.
    Publishing only schedules the broker's send (PikaEventBroker.publish), so the transaction waits on
    nothing but the database.
    """
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    with self.session_scope() as session:
        stored = tracker.__dict__.pop(STORED_IN_SESSION, None)  # once: after this save it is out of date
        if stored is None:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        rows = []
        for event in itertools.islice(tracker.events, stored, len(tracker.events)):
            data = event.as_dict()
            if self.event_broker is not None:
                self.event_broker.publish({"sender_id": tracker.sender_id, **data})
            rows.append(
                {
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        if rows:
            session.execute(_statements(self.SQLEvent)["insert"], rows)
        session.commit()
