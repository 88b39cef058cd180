"""Indexes for the insights dashboard (issue 17): bot/store/insight_indexes.py.

Revision ID: 0004
Revises: 0005

Numbered 0004 as planned, and chained after 0005 (taught examples), which was committed first: one head.
With 200 000 conversations over 90 days on PostgreSQL they take the dashboard's queries under a second
(`python -m bot bench --insights`, README).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_messages_conversation_role", "messages", ["conversation_id", "role", "created_at"])
    op.create_index("ix_returns_conversation_id", "returns", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_returns_conversation_id", table_name="returns")
    op.drop_index("ix_messages_conversation_role", table_name="messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
