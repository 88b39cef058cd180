"""Customer ratings at the end of a conversation: asked at most once, stored on the conversation row.

Each function is one unit of work on a Session. The "asked once" rule is one conditional UPDATE
(`WHERE rating_asked_at IS NULL`), so two gateway processes that both see a goodbye ask only once.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.conversations import Conversation
from bot.store.models import utcnow

MAX_COMMENT_CHARS = 1000


def claim_rating_prompt(session: Session, conversation_id: str) -> str | None:
    """The conversation's language for the one caller that may ask it for a rating; None ever after."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.rating_asked_at.is_(None))
        .values(rating_asked_at=utcnow())
    )
    if result.rowcount != 1:
        return None
    return session.execute(select(Conversation.language).where(Conversation.id == conversation_id)).scalar_one()


def record_rating(session: Session, conversation_id: str, rating: int, comment: str | None) -> bool:
    """Store the rating (1..5) and comment; only for a conversation that was asked and has not answered."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    comment = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.rating_asked_at.is_not(None),
            Conversation.rating.is_(None),
        )
        .values(rating=rating, rating_comment=comment, rated_at=utcnow())
    )
    return result.rowcount == 1


def is_rated(session: Session, conversation_id: str) -> bool:
    """Whether the conversation has its rating already (the answer to one more is then "thanks")."""
    found = session.execute(select(Conversation.rating).where(Conversation.id == conversation_id)).scalar()
    return found is not None
