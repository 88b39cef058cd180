"""Indexes for the insights dashboard's queries (bot/insights/queries.py), revision 0004_insights_indexes.

Declared here, beside the models they index, so that the models and the migrations agree (the migration
test compares them). Measured with `python -m bot bench --insights` (README, Insights).
"""

from __future__ import annotations

from sqlalchemy import Index

from bot.store.conversations import Conversation, Message
from bot.store.models import ReturnRequest

# The period is a range of conversations.created_at; language narrows it.
CONVERSATIONS_CREATED = Index("ix_conversations_created_at", Conversation.created_at)
# Customer turns of a conversation (turns, top intents, topics), and an agent's first message after a claim.
MESSAGES_BY_ROLE = Index("ix_messages_conversation_role", Message.conversation_id, Message.role, Message.created_at)
RETURNS_CONVERSATION = Index("ix_returns_conversation_id", ReturnRequest.conversation_id)

INDEXES = (CONVERSATIONS_CREATED, MESSAGES_BY_ROLE, RETURNS_CONVERSATION)
