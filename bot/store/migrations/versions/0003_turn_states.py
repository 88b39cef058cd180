"""Every customer turn has a state: messages.turn_state and messages.turn_state_at (issue 15).

Revision ID: 0003
Revises: 0002

A customer's message is `received` when stored, `sent_to_rasa` once a gateway has claimed it (by a
conditional UPDATE, so only one gateway ever asks Rasa), and then `answered` or `failed`. The gateway
re-drives, at start-up, turns left `received` by a gateway that stopped (bot/web/recovery.py).
Bot, agent and system messages have no state (NULL).

Customer messages stored before this revision were handled by the gateway of their day: they are
marked `answered` (settled), so nothing from history is ever sent to Rasa again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("turn_state", sa.String(16), nullable=True))
    op.add_column("messages", sa.Column("turn_state_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_messages_turn_state", "messages", ["turn_state"])
    messages = sa.table("messages", sa.column("role", sa.String), sa.column("turn_state", sa.String))
    op.execute(messages.update().where(messages.c.role == "customer").values(turn_state="answered"))


def downgrade() -> None:
    op.drop_index("ix_messages_turn_state", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("turn_state_at")
        batch.drop_column("turn_state")
