"""A guest conversation's resume secret: conversations.resume_secret_hash (issue 16).

Revision ID: 0002
Revises: 0001

The widget gets a random resume secret in `welcome` and must present it to resume a guest's
conversation, or to have a sign-in adopt it; only its sha256 is stored (bot/store/transcript.py).
Conversations from before this revision have none: a guest's such conversation cannot be resumed, and
the widget that had it starts a new one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("resume_secret_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("resume_secret_hash")
