"""A generated history of conversations for the insights dashboard: `python -m bot seed --history 90`.

Deterministic (one seeded random generator): the same days, count, seed and `today` give the same rows.
Realistic enough to read: more chats on weekdays and in the daytime (UTC), nb most, then sv, da, en;
orders, returns, loyalty and FAQ questions, some smalltalk; fallbacks and low confidence now and then;
handoffs for asking, complaints, misunderstanding and frustration, claimed by the demo agents within
minutes during opening hours, else a ticket; ratings mostly good when the bot managed alone.

Every generated conversation id starts with HISTORY_PREFIX, so a new history replaces the old one and
never touches a real conversation. Returns point at the demo shop's orders (seed it first). Seeding the
demo shop again (`make run` does each new day) deletes all handoffs and returns, the history's too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert, select

from bot.store.conversations import Conversation, Message
from bot.store.db import create_schema, session_scope
from bot.store.desk import Ticket
from bot.store.models import HandoffRequest, Order, ReturnRequest

HISTORY_PREFIX = "hist-"
BATCH = 2000  # conversations per transaction
LANGUAGES = (("nb", 55), ("sv", 20), ("da", 15), ("en", 10))
WEEKDAY_LOAD = (1.25, 1.15, 1.1, 1.05, 1.0, 0.7, 0.75)  # Monday first
AGENTS = ("agent.anne", "agent.per")

# What customers write, per intent, in each language: a few words are enough for the trainer's inbox.
SAYS: dict[str, dict[str, str]] = {
    "greet": {"nb": "hei", "sv": "hej", "da": "hej", "en": "hi"},
    "goodbye": {"nb": "takk, ha det", "sv": "tack, hej då", "da": "tak, farvel", "en": "thanks, bye"},
    "order_status": {"nb": "hvor er pakken min?", "sv": "var är mitt paket?", "da": "hvor er min pakke?",
                     "en": "where is my parcel?"},
    "inform": {"nb": "ordre 10234", "sv": "order 10234", "da": "ordre 10234", "en": "order 10234"},
    "start_return": {"nb": "jeg vil returnere skoene", "sv": "jag vill returnera skorna",
                     "da": "jeg vil returnere skoene", "en": "I want to return the shoes"},
    "complaint": {"nb": "glidelåsen røk", "sv": "dragkedjan gick sönder", "da": "lynlåsen gik i stykker",
                  "en": "the zip broke"},
    "refund_status": {"nb": "har refusjonen kommet?", "sv": "har återbetalningen kommit?",
                      "da": "er refusionen kommet?", "en": "has my refund come through?"},
    "faq_returns": {"nb": "hvor lang returfrist har dere?", "sv": "hur lång är returrätten?",
                    "da": "hvor lang returret har I?", "en": "how long do I have to return?"},
    "check_points": {"nb": "hvor mange poeng har jeg?", "sv": "hur många poäng har jag?",
                     "da": "hvor mange point har jeg?", "en": "how many points do I have?"},
    "faq_loyalty": {"nb": "hvordan fungerer kundeklubben?", "sv": "hur fungerar kundklubben?",
                    "da": "hvordan virker kundeklubben?", "en": "how does the club work?"},
    "faq_shipping": {"nb": "hva koster frakt?", "sv": "vad kostar frakten?", "da": "hvad koster fragt?",
                     "en": "how much is shipping?"},
    "faq_payment": {"nb": "kan jeg betale med Vipps?", "sv": "kan jag betala med Klarna?",
                    "da": "kan jeg betale med MobilePay?", "en": "can I pay by card?"},
    "faq_opening_hours": {"nb": "når har dere åpent?", "sv": "när har ni öppet?", "da": "hvornår har I åbent?",
                          "en": "when are you open?"},
    "request_human": {"nb": "jeg vil snakke med et menneske", "sv": "jag vill prata med en människa",
                      "da": "jeg vil tale med et menneske", "en": "let me talk to a person"},
    "nlu_fallback": {"nb": "blå greia på hylla?", "sv": "den där grejen?", "da": "den der ting?",
                     "en": "the blue thingy?"},
    "chitchat": {"nb": "er du en robot?", "sv": "är du en robot?", "da": "er du en robot?", "en": "are you a bot?"},
}  # fmt: skip
# What a conversation is about: its customer intents in order, and how often it happens (weights).
SCENARIOS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("order_status", "inform"), 26),
    (("faq_shipping",), 8),
    (("faq_payment",), 5),
    (("faq_opening_hours",), 4),
    (("start_return", "inform"), 12),
    (("faq_returns",), 6),
    (("refund_status", "inform"), 5),
    (("complaint",), 5),
    (("check_points",), 8),
    (("faq_loyalty",), 4),
    (("request_human",), 7),
    (("chitchat",), 4),
    (("nlu_fallback", "nlu_fallback"), 6),
)


@dataclass
class _Rows:
    conversations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)


def _pick(rng: random.Random, weighted: Any) -> Any:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights)[0]


def _confidence(rng: random.Random, intent: str) -> float:
    if intent == "nlu_fallback":
        return round(rng.uniform(0.15, 0.49), 3)
    return round(rng.uniform(0.5, 0.7) if rng.random() < 0.08 else rng.uniform(0.7, 0.995), 3)


class _Generator:
    def __init__(self, rng: random.Random, orders: list[tuple[str, str]]) -> None:
        self.rng = rng
        self.orders = orders
        self.serial = 0

    def conversation(self, rows: _Rows, start: datetime) -> None:
        rng = self.rng
        self.serial += 1
        cid = f"{HISTORY_PREFIX}{self.serial:07d}"
        language = _pick(rng, LANGUAGES)
        scenario = list(_pick(rng, SCENARIOS))
        if rng.random() < 0.1 and scenario[0] != "nlu_fallback":  # a stray misunderstanding on the way
            scenario.insert(1, "nlu_fallback")
        intents = (["greet"] if rng.random() < 0.35 else []) + scenario
        clock = start
        messages: list[dict[str, Any]] = []

        def say(
            role: str, intent: str | None = None, text: str = "", author: str | None = None, at: datetime | None = None
        ) -> None:
            nonlocal clock
            clock = at or clock
            messages.append({
                "conversation_id": cid, "seq": len(messages) + 1, "role": role, "text": text, "language": language,
                "intent": intent, "confidence": _confidence(rng, intent) if intent else None, "author": author,
                "created_at": clock,
            })  # fmt: skip
            clock += timedelta(seconds=rng.randint(2, 40) if role == "customer" else 1)

        for intent in intents:
            say("customer", intent, SAYS[intent][language])
            say("bot", text="…")
        reason = self._handoff_reason(intents)
        handoff, rated_by_agent = None, False
        if reason:
            handoff, rated_by_agent = self._handoff(rows, cid, reason, language, clock, say)
        elif "start_return" in intents and self.orders and rng.random() < 0.65:
            order_id, customer_id = rng.choice(self.orders)
            rows.returns.append({
                "rma": f"RMA-H{self.serial:07d}", "order_id": order_id, "customer_id": customer_id, "skus": "TS-1001",
                "label_price_nok": 0, "refund_business_days": 5, "status": "open", "conversation_id": cid,
                "created_at": clock,
            })  # fmt: skip
        if not reason and rng.random() < 0.55:
            say("customer", "goodbye", SAYS["goodbye"][language])
            say("bot", text="…")
        asked = (not reason and messages[-2]["intent"] == "goodbye") or rated_by_agent
        rating = self._rating(reason, intents) if asked and rng.random() < 0.6 else None
        rows.messages.extend(messages)
        rows.conversations.append({
            "id": cid, "language": language, "state": "closed" if handoff else "bot", "last_seq": len(messages),
            "created_at": start, "updated_at": clock, "rating_asked_at": clock if asked else None,
            "rating": rating, "rated_at": clock + timedelta(seconds=20) if rating else None,
        })  # fmt: skip

    def _handoff_reason(self, intents: list[str]) -> str | None:
        rng = self.rng
        if "request_human" in intents:
            return "requested"
        if "complaint" in intents and rng.random() < 0.5:
            return "complaint"
        if intents.count("nlu_fallback") >= 2:
            return "misunderstood"
        if rng.random() < 0.03:
            return "frustration"
        return None

    def _handoff(self, rows: _Rows, cid: str, reason: str, language: str, at: datetime, say: Callable) -> tuple:
        """A request at `at`: claimed in opening hours (07-19 UTC on weekdays, 09-15 on Saturdays), else a ticket."""
        rng = self.rng
        open_now = (at.weekday() < 5 and 7 <= at.hour < 19) or (at.weekday() == 5 and 9 <= at.hour < 15)
        request = {"conversation_id": cid, "reason": reason, "language": language, "last_message": "",
                   "created_at": at, "detail": "shouting" if reason == "frustration" else None,
                   "agent_username": None, "claimed_at": None, "closed_at": None, "resolution": None}  # fmt: skip
        if open_now and rng.random() < 0.92:
            claimed = at + timedelta(seconds=min(1800, rng.lognormvariate(4.0, 0.8)))  # median ~55 s
            agent = rng.choice(AGENTS)
            first = claimed + timedelta(seconds=min(600, rng.lognormvariate(3.0, 0.7)))  # median ~20 s
            closed = first + timedelta(seconds=min(7200, rng.lognormvariate(5.5, 0.6)))  # median ~4 min
            request.update(status="closed", agent_username=agent, claimed_at=claimed, closed_at=closed,
                           resolution="resolved")  # fmt: skip
            rows.handoffs.append(request)
            say("agent", text="…", author=agent.split(".")[1].title(), at=first)
            return request, True
        request.update(status="ticket" if rng.random() < 0.6 else "unattended")
        rows.handoffs.append(request)
        if request["status"] == "ticket":
            rows.tickets.append({
                "conversation_id": cid, "email": f"{cid}@example.com", "message": SAYS["complaint"][language],
                "language": language, "reason": reason, "status": "done" if rng.random() < 0.8 else "open",
                "created_at": at + timedelta(minutes=1),
            })  # fmt: skip
        return None, False

    def _rating(self, reason: str | None, intents: list[str]) -> int:
        if reason == "misunderstood" or "nlu_fallback" in intents:
            weights = (25, 25, 25, 15, 10)
        elif reason:
            weights = (8, 10, 20, 32, 30)
        else:
            weights = (3, 4, 10, 33, 50)
        return self.rng.choices((1, 2, 3, 4, 5), weights)[0]


def _starts(rng: random.Random, days: int, total: int, today: date) -> list[datetime]:
    """`total` start times over the `days` UTC days before and including today, by weekday and hour."""
    first = today - timedelta(days=days - 1)
    loads = [WEEKDAY_LOAD[(first + timedelta(days=n)).weekday()] * (0.85 + 0.3 * n / max(1, days)) for n in range(days)]
    per_day = [int(total * load / sum(loads)) for load in loads]
    for day in rng.sample(range(days), total - sum(per_day)):  # what rounding down left, on random days
        per_day[day] += 1
    hours = [0.2] * 6 + [0.6, 1.2, 1.6, 1.7, 1.6, 1.5, 1.6, 1.5, 1.4, 1.3, 1.3, 1.4, 1.6, 1.7, 1.5, 1.0, 0.6, 0.3]
    starts = []
    for offset, count in enumerate(per_day):
        midnight = datetime.combine(first + timedelta(days=offset), time.min, tzinfo=timezone.utc)
        for hour in rng.choices(range(24), hours, k=count):
            starts.append(midnight + timedelta(hours=hour, seconds=rng.randrange(3600)))
    return sorted(starts)


def clear_history(url: str | None = None) -> None:
    """Delete the generated history (ids starting with HISTORY_PREFIX), children first."""
    like = f"{HISTORY_PREFIX}%"
    plain = {"synchronize_session": False}  # nothing of it is loaded in the session
    with session_scope(url) as session:
        for column in (Ticket.conversation_id, ReturnRequest.conversation_id, HandoffRequest.conversation_id,
                       Message.conversation_id, Conversation.id):  # fmt: skip
            session.execute(delete(column.class_).where(column.like(like)), execution_options=plain)


def generate_history(
    url: str | None = None,
    days: int = 90,
    conversations: int | None = None,
    seed: int = 17,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Replace the generated history with `conversations` (default 60 a day) over `days` days; counts per table."""
    today = today or datetime.now(timezone.utc).date()
    total = conversations if conversations is not None else 60 * days
    rng = random.Random(seed)
    create_schema(url)
    clear_history(url)
    with session_scope(url) as session:
        orders = [
            (row.id, row.customer_id) for row in session.execute(select(Order.id, Order.customer_id).order_by(Order.id))
        ]
    generator = _Generator(rng, orders)
    starts = _starts(rng, days, total, today)
    counts = {"conversations": 0, "messages": 0, "handoffs": 0, "tickets": 0, "returns": 0}
    for first in range(0, len(starts), BATCH):
        rows = _Rows()
        for start in starts[first : first + BATCH]:
            generator.conversation(rows, start)
        tables = (("conversations", Conversation, rows.conversations), ("messages", Message, rows.messages),
                  ("handoffs", HandoffRequest, rows.handoffs), ("tickets", Ticket, rows.tickets),
                  ("returns", ReturnRequest, rows.returns))  # fmt: skip
        with session_scope(url) as session:
            for name, table, batch in tables:
                if batch:
                    session.execute(insert(table), batch)
                counts[name] += len(batch)
        if progress:
            progress(counts["conversations"], total)
    return counts
