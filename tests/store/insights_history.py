"""A small shop history for the insights tests, every number of which is counted by hand in test_insights.py.

Monday 2 and Tuesday 3 March 2026 (UTC), one conversation a week later, and one opened but empty:
    A nb Mon 10:00  greet, check_points (answered); rated 5                       contained
    B nb Mon 11:00  start_return, inform at 0.6 (low); return registered           contained
    C sv Mon 12:00  two fallbacks; handed over (misunderstood): waited 30 s, first reply 20 s, closed
                    after 300 s; rated 2
    G nb Mon 23:30  greet, goodbye; asked for a rating, no answer                  contained
    D en Tue 09:00  request_human; handed over (requested): waited 90 s, reply 60 s, 660 s; rated 4
    E da Tue 10:00  complaint, inform; no one there (unattended), a ticket
    F nb Tue 13:00  check_points at 0.65 (low) answered by a system line, order_status; rated 1
    H nb Tue 14:00  order_status twice; handed over (frustration): waited 20 s, no reply, closed after
                    300 s (agent_left); again (requested): waited 60 s, reply 10 s, still open
    X nb Tue 10 Mar greet                                                          contained
    Z nb Mon 08:00  no messages (a page opened)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from bot.store.conversations import Conversation, Message
from bot.store.desk import Ticket
from bot.store.models import Customer, HandoffRequest, Order, ReturnRequest

MONDAY = datetime(2026, 3, 2, tzinfo=timezone.utc)
TUESDAY = MONDAY + timedelta(days=1)

# A message: (role, intent, confidence).
Turn = tuple[str, str | None, float | None]


def _conversation(
    session: Session,
    cid: str,
    language: str,
    start: datetime,
    turns: list[Turn],
    rating: int | None = None,
    asked: bool = False,
    at: dict[int, datetime] | None = None,
) -> None:
    """A conversation with its turns 10 s apart from `start` (or at the times `at` gives by index)."""
    at = at or {}
    session.add(
        Conversation(
            id=cid, language=language, state="bot", last_seq=len(turns), created_at=start, updated_at=start,
            rating=rating, rating_asked_at=start + timedelta(minutes=30) if asked or rating else None,
            rated_at=start + timedelta(minutes=31) if rating else None,
        )
    )  # fmt: skip
    for index, (role, intent, confidence) in enumerate(turns):
        session.add(
            Message(
                conversation_id=cid, seq=index + 1, role=role, text=f"{role} {index}", intent=intent,
                confidence=confidence, created_at=at.get(index, start + timedelta(seconds=10 * index)),
            )
        )  # fmt: skip


def _handoff(
    session: Session, cid: str, reason: str, language: str, created: datetime, status: str,
    claimed_after: float | None = None, closed_after: float | None = None,
) -> None:  # fmt: skip
    claimed = created + timedelta(seconds=claimed_after) if claimed_after is not None else None
    closed = claimed + timedelta(seconds=closed_after) if claimed and closed_after is not None else None
    session.add(
        HandoffRequest(
            conversation_id=cid, reason=reason, language=language, status=status, created_at=created,
            agent_username="agent.anne" if claimed else None, claimed_at=claimed, closed_at=closed,
        )
    )  # fmt: skip


def add_history(session: Session) -> None:
    mon, tue = MONDAY, TUESDAY
    bot: Turn = ("bot", None, None)
    agent: Turn = ("agent", None, None)
    _conversation(
        session,
        "A",
        "nb",
        mon + timedelta(hours=10),
        [("customer", "greet", 0.95), bot, ("customer", "check_points", 0.92), bot],
        rating=5,
    )
    _conversation(
        session,
        "B",
        "nb",
        mon + timedelta(hours=11),
        [("customer", "start_return", 0.8), bot, ("customer", "inform", 0.6), bot],
    )
    # A return needs its order and customer (foreign keys).
    session.add(
        Customer(
            id="C-1", name="Kari Nordmann", email="kari@example.no", phone="1", language="nb", member_since=mon.date()
        )
    )
    session.add(Order(id="10001", customer_id="C-1", status="delivered", placed_at=mon - timedelta(days=9)))
    session.flush()
    session.add(
        ReturnRequest(
            rma="RMA-1",
            order_id="10001",
            customer_id="C-1",
            skus="S1",
            label_price_nok=0,
            refund_business_days=5,
            conversation_id="B",
            created_at=mon + timedelta(hours=11),
        )
    )
    c = mon + timedelta(hours=12)
    _conversation(
        session,
        "C",
        "sv",
        c,
        [("customer", "nlu_fallback", 0.3), bot, ("customer", "nlu_fallback", 0.2), bot, agent],
        rating=2,
        at={4: c + timedelta(minutes=1, seconds=50)},
    )
    _handoff(session, "C", "misunderstood", "sv", c + timedelta(minutes=1), "closed", 30, 300)
    _conversation(
        session,
        "G",
        "nb",
        mon + timedelta(hours=23, minutes=30),
        [("customer", "greet", 0.99), bot, ("customer", "goodbye", 0.97), bot],
        asked=True,
    )
    d = tue + timedelta(hours=9)
    _conversation(
        session,
        "D",
        "en",
        d,
        [("customer", "request_human", 0.99), bot, agent],
        rating=4,
        at={2: d + timedelta(minutes=2, seconds=40)},
    )
    _handoff(session, "D", "requested", "en", d + timedelta(seconds=10), "closed", 90, 660)
    e = tue + timedelta(hours=10)
    _conversation(session, "E", "da", e, [("customer", "complaint", 0.9), bot, ("customer", "inform", 0.95), bot])
    _handoff(session, "E", "complaint", "da", e + timedelta(seconds=5), "ticket")
    session.add(
        Ticket(
            conversation_id="E",
            email="e@example.dk",
            message="broken",
            language="da",
            reason="complaint",
            created_at=e + timedelta(minutes=1),
        )
    )
    _conversation(
        session,
        "F",
        "nb",
        tue + timedelta(hours=13),
        [("customer", "check_points", 0.65), ("system", None, None), ("customer", "order_status", 0.88), bot],
        rating=1,
    )
    h = tue + timedelta(hours=14)
    _conversation(
        session,
        "H",
        "nb",
        h,
        [("customer", "order_status", 0.9), bot, ("customer", "order_status", 0.85), bot, agent],
        at={4: h + timedelta(minutes=6, seconds=40)},
    )
    _handoff(session, "H", "frustration", "nb", h, "agent_left", 20, 300)
    _handoff(session, "H", "requested", "nb", h + timedelta(minutes=5, seconds=30), "claimed", 60)
    _conversation(session, "X", "nb", mon + timedelta(days=8, hours=10), [("customer", "greet", 0.99), bot])
    _conversation(session, "Z", "nb", mon + timedelta(hours=8), [])
