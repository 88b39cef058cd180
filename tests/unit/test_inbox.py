"""The trainer inbox from a real transcript in the test database: reasons, grouping, masking, decisions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.store.conversations import Conversation, Message
from bot.store.db import create_schema, session_scope
from bot.store.feedback import claim_rating_prompt, record_rating
from bot.store.models import HandoffRequest, utcnow
from bot.training.inbox import InboxFilter, group_key, inbox_groups, inbox_messages, record_decision


def _conversation(session: Session, cid: str, turns: list[tuple[str, str | None, float | None]], **extra) -> None:
    start = utcnow() - timedelta(minutes=30)
    session.add(Conversation(id=cid, language="nb", state="bot", last_seq=len(turns), **extra))
    for seq, (text, intent, confidence) in enumerate(turns, start=1):
        session.add(
            Message(
                conversation_id=cid, seq=seq, role="customer", text=text, language="nb", intent=intent,
                confidence=confidence, created_at=start + timedelta(minutes=seq),
            )
        )  # fmt: skip


def test_a_message_rated_1_shows_masked(shop: str) -> None:
    create_schema(shop)
    with session_scope(shop) as session:
        _conversation(
            session, "rated-1", [("Jeg er Kari, ring +47 912 34 567 om ordre 10234", "order_status", 0.93)],
            customer_id="C-1001",
        )  # fmt: skip
    with session_scope(shop) as session:
        assert claim_rating_prompt(session, "rated-1")
        assert not claim_rating_prompt(session, "rated-1")  # asked once, never twice
        assert record_rating(session, "rated-1", 1, "  useless ")
        assert not record_rating(session, "rated-1", 5, None)  # one answer
    with session_scope(shop) as session:
        [message] = [m for m in inbox_messages(session) if m.conversation_id == "rated-1"]
    assert message.reasons == ("rated_low",)
    assert message.text == "Jeg er [name], ring [phone] om ordre 10234"


def test_reasons_grouping_and_decisions(shop: str) -> None:
    create_schema(shop)
    with session_scope(shop) as session:
        _conversation(session, "c-fallback", [("hvor blir det av dingsen 123", "nlu_fallback", 0.2),
                                              ("hvor er pakken min", "order_status", 0.95)])  # fmt: skip
        _conversation(session, "c-low", [("Hvor blir det av   dingsen 456!", "faq_shipping", 0.41)])
        _conversation(session, "c-handoff", [("dette er helt feil", "complaint", 0.8)])
        session.add(HandoffRequest(conversation_id="c-handoff", reason="complaint", language="nb"))
    with session_scope(shop) as session:
        groups = inbox_groups(session, InboxFilter(language="nb"))
        by_key = {g.key: g for g in groups}
        dingsen = by_key[group_key("hvor blir det av dingsen 123")]
        assert dingsen.count == 2 and set(dingsen.reasons) == {"fallback", "rephrased", "low_confidence"}
        assert by_key["dette er helt feil"].reasons == ("handoff",)
        assert "hvor er pakken min" not in by_key  # understood: not in the inbox
        assert groups[0].count >= groups[-1].count or groups[0].newest.created_at >= groups[-1].newest.created_at
        # Of this test's groups (the run's other tests leave their conversations in the same database).
        only_rephrased = {g.key for g in inbox_groups(session, InboxFilter(reason="rephrased"))}
        assert dingsen.key in only_rephrased and "dette er helt feil" not in only_rephrased
        assert inbox_groups(session, InboxFilter(language="en")) == [] or all(
            g.language == "en" for g in inbox_groups(session, InboxFilter(language="en"))
        )
        record_decision(session, dingsen.message_ids, "ignore", "trainer.tor", None)
    with session_scope(shop) as session:
        assert dingsen.key not in {g.key for g in inbox_groups(session)}


def test_a_thanks_after_a_miss_is_not_a_rephrasing(shop: str) -> None:
    create_schema(shop)
    with session_scope(shop) as session:
        _conversation(session, "c-thanks", [("dingsedulten min 77", "nlu_fallback", 0.1), ("takk", "thanks", 0.99)])
    with session_scope(shop) as session:
        [message] = [m for m in inbox_messages(session) if m.conversation_id == "c-thanks"]
    assert message.reasons == ("fallback",)
