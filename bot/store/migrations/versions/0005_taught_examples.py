"""Where each taught NLU example came from: table taught_examples (issue 16).

Revision ID: 0005
Revises: 0003

One row per customer message behind a line a trainer added to data/nlu (bot/store/taught.py), so that
erasing a customer's conversations also removes the lines taught from them. Lines taught before this
revision have no rows: their sources are known only from inbox_decisions (message and example text),
which erasure deletes with the messages; such a line stays in data/nlu.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taught_examples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("example_file", sa.String(300), nullable=False),
        sa.Column("intent", sa.String(100), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("example", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(20), nullable=True),
        sa.Column("taught_by", sa.String(64), nullable=False),
        sa.Column("taught_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_taught_examples_line", "taught_examples", ["example_file", "intent"])
    op.create_index("ix_taught_examples_message_id", "taught_examples", ["message_id"])
    op.create_index("ix_taught_examples_conversation_id", "taught_examples", ["conversation_id"])
    op.create_index("ix_taught_examples_customer_id", "taught_examples", ["customer_id"])


def downgrade() -> None:
    op.drop_table("taught_examples")
