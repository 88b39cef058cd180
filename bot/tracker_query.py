"""Rasa's SQL tracker store: a conversation's latest session in two plain queries instead of one, and the
events for the event broker found by counting, not by reading the session back.

Rasa 3.6 finds the latest session with one query: the conversation's events, joined to a subquery for
the newest `session_started` timestamp. On PostgreSQL the planner, estimating one row for a
conversation (always so on a table not yet analysed, and often for one long conversation among many
short ones), runs that subquery once per event of the conversation: a nested loop that scans all of the
conversation's events for each of them. Measured in `python -m bot bench --length`: 160 ms for one
read at 1 324 events, on every turn twice (the turn's tracker, then the event broker's comparison), and
PostgreSQL at half of the machine's CPU; it grew with the whole conversation, not the session.

Here the newest session start is read first, as a number, and the events are then filtered by it: the
same rows in the same order (tests/store/test_tracker_query.py compares them with Rasa's query on SQLite
and PostgreSQL), and each query reads the conversation's events once. It returns a SQLAlchemy Query,
as Rasa's callers (`.all()`, `.count()`) expect.

With an event broker (the scaled stack's RabbitMQ), Rasa's save first read the whole session back and
rebuilt a tracker from it, only to count its events: the events after that many are the new ones it
publishes. Then it counted them again to store the same new events. `stream_new_events` counts the
stored events instead (the query save's own count uses): the same events published, without the read.
Profiled on the scaled stack, the read was about a tenth of a Rasa server's Python time.
"""

from __future__ import annotations

import itertools
from typing import Any


def latest_session_events(self: Any, session: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """SQLTrackerStore._event_query: the conversation's events, by id; only its latest session's unless
    `fetch_events_from_all_sessions` (all of them when it has no `session_started` yet)."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    event = self.SQLEvent
    query = session.query(event).filter(event.sender_id == sender_id)
    if not fetch_events_from_all_sessions:
        started = session.execute(
            sa.select(sa.func.max(event.timestamp)).where(
                event.sender_id == sender_id, event.type_name == SessionStarted.type_name
            )
        ).scalar_one()
        if started is not None:
            query = query.filter(event.timestamp >= started)
    return query.order_by(event.id)


async def stream_new_events(self: Any, tracker: Any) -> None:
    """SQLTrackerStore.stream_events: publishes the tracker's events after those already stored.

    The turn holds the conversation's lock, so nothing else stores events between this count and save's.
    """
    if self.event_broker is None:
        return
    with self.session_scope() as session:
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
    new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
    await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
