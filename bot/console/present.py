"""What the console shows, as plain dicts: the same shape for the page templates and for the socket.

Customer text stays the exact string the customer typed; templates escape it (autoescape) and the
console's script sets it as textContent, so it is never HTML anywhere.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.i18n import tier_name
from bot.services.customer_card import CustomerCard
from bot.services.queue import QueueEntry
from bot.store.conversations import Conversation, ConversationState, Message
from bot.store.desk import AgentNote, Ticket
from bot.store.models import as_utc

REASONS = {
    "requested": "Asked for a person",
    "misunderstood": "The bot misunderstood twice",
    "complaint": "Complaint about a faulty or damaged item",
    "frustration": "Frustrated",
}
SIGNALS = {"angry_words": "angry words", "shouting": "shouting", "repeat": "asked the same again"}
STATES = {
    ConversationState.BOT: "With the bot",
    ConversationState.QUEUED: "In the queue",
    ConversationState.AGENT: "With an agent",
    ConversationState.CLOSED: "Closed",
}
LANGUAGES = {"nb": "Norwegian", "sv": "Swedish", "da": "Danish", "en": "English"}


def iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def reason_text(reason: str, detail: str | None) -> str:
    label = REASONS.get(reason, reason)
    if reason == "frustration" and detail:
        signals = [SIGNALS.get(s.strip(), s.strip()) for s in detail.split(",") if s.strip()]
        return f"{label}: {', '.join(signals)}"
    return label


def tier_label(tier: str | None) -> str:
    return tier_name(tier, "en") if tier else "Guest"


def queue_entry(entry: QueueEntry) -> dict[str, Any]:
    return {
        "conversation_id": entry.conversation_id,
        "customer": entry.customer_name or "Guest",
        "signed_in": entry.customer_id is not None,
        "tier": entry.tier or "guest",
        "tier_label": tier_label(entry.tier),
        "language": LANGUAGES.get(entry.language, entry.language),
        "queued_at": iso(entry.queued_at),
        "reason": entry.reason,
        "reason_text": reason_text(entry.reason, entry.detail),
        "last_message": entry.last_message,
    }


def ticket(item: Ticket) -> dict[str, Any]:
    return {
        "id": item.id,
        "conversation_id": item.conversation_id,
        "email": item.email,
        "message": item.message,
        "language": LANGUAGES.get(item.language, item.language),
        "reason_text": REASONS.get(item.reason, item.reason),
        "status": item.status,
        "created_at": iso(item.created_at),
        "done_by": item.done_by,
    }


def message(item: Message) -> dict[str, Any]:
    return {
        "seq": item.seq,
        "role": item.role,
        "text": item.text,
        "author": item.author,
        "ts": iso(item.created_at),
        "intent": item.intent,
    }


def note(item: AgentNote) -> dict[str, Any]:
    return {"id": item.id, "author": item.author_name, "text": item.text, "ts": iso(item.created_at)}


def held(conversation: Conversation, customer_name: str | None) -> dict[str, Any]:
    return {
        "conversation_id": conversation.id,
        "customer": customer_name or "Guest",
        "language": LANGUAGES.get(conversation.language, conversation.language),
        "since": iso(conversation.updated_at),
    }


def card(item: CustomerCard) -> dict[str, Any]:
    data = asdict(item)
    data["tier_label"] = tier_label(item.tier)
    return data
