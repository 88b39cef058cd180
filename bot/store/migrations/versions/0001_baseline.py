"""The schema as it was before migrations: every table of bot/store, and the adoption of databases made then.

Long because it spells out every table as it was (about 300 lines); later revisions are small.

Revision ID: 0001
Revises: (none)

The tables are written out here, not imported from the models: a revision is a fixed point in the
schema's history, and the models move on. tests/store/test_migrations.py compares head with the models.

A database that Varde made before migrations (Base.metadata.create_all, then add_missing_columns on
every start, and ensure_table for model_records) has the tables but no alembic_version. Upgrading it
runs this revision like any other, and this revision *adopts* such a database rather than stamping it
blindly:
  1. tables that are missing are created (all of them, for an empty database);
  2. nullable columns without a server default that an older release did not have are added, as
     add_missing_columns did at every start;
  3. indexes that are missing are created (add_missing_columns added a column such as
     conversations.agent_username but never its index);
  4. the result is compared with the schema below (alembic's compare_metadata). If anything still
     differs (a NOT NULL column missing, another type, a hand-made change) the upgrade stops with the
     list of differences and the version is not recorded, so nothing later runs on a schema it does
     not know. The whole upgrade is one transaction (bot/store/migrate.py): the database is left as it was.
Creating what is missing, rather than stamping after a check alone, keeps every database an earlier
release could have left (a demo's SQLite file, a shop's PostgreSQL) working, as the start-up did before.
Tables that are not ours (Rasa's tracker shares the database by default) are never looked at.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def schema() -> sa.MetaData:
    """Every table, column, index and constraint of bot/store's models at this revision."""
    metadata = sa.MetaData()
    sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("member_since", sa.Date, nullable=False),
    )
    sa.Table(
        "products",
        metadata,
        sa.Column("sku", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_nok", sa.Integer, nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
    )
    sa.Table(
        "orders",
        metadata,
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("customer_id", sa.String(20), sa.ForeignKey("customers.id"), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        _when("placed_at", nullable=False),
        _when("shipped_at"),
        _when("delivered_at"),
        _when("cancelled_at"),
        sa.Column("eta", sa.Date),
        sa.Column("expected_ship_date", sa.Date),
        sa.Column("delay_reason", sa.Text),
        sa.Column("carrier", sa.String(40)),
        sa.Column("tracking_number", sa.String(60)),
        sa.Column("refunded", sa.Boolean, nullable=False),
    )
    sa.Table(
        "order_items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(20), sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("sku", sa.String(20), sa.ForeignKey("products.sku"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_nok", sa.Integer, nullable=False),
    )
    sa.Table(
        "returns",
        metadata,
        sa.Column("rma", sa.String(20), primary_key=True),
        sa.Column("order_id", sa.String(20), sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("customer_id", sa.String(20), sa.ForeignKey("customers.id"), nullable=False, index=True),
        sa.Column("skus", sa.Text, nullable=False),
        sa.Column("label_price_nok", sa.Integer, nullable=False),
        sa.Column("refund_business_days", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(200)),
        _when("created_at", nullable=False),
    )
    sa.Table(
        "loyalty_accounts",
        metadata,
        sa.Column("customer_id", sa.String(20), sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("tier", sa.String(10), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("earned_last_12_months", sa.Integer, nullable=False),
    )
    sa.Table(
        "point_transactions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id", sa.String(20), sa.ForeignKey("loyalty_accounts.customer_id"), nullable=False, index=True
        ),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("earned_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("note", sa.String(200), nullable=False),
    )
    sa.Table(
        "handoff_requests",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("customer_id", sa.String(20), sa.ForeignKey("customers.id")),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(200)),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("last_message", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("agent_username", sa.String(64), index=True),
        _when("claimed_at"),
        _when("closed_at"),
        sa.Column("resolution", sa.String(40)),
        sa.Column("resolution_note", sa.Text),
    )
    sa.Table(
        "seed_info",
        metadata,
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    sa.Table(
        "conversations",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(20), index=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("agent_username", sa.String(64), index=True),
        _when("queued_at"),
        sa.Column("last_seq", sa.Integer, nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("rating_asked_at"),
        sa.Column("rating", sa.Integer),
        sa.Column("rating_comment", sa.Text),
        _when("rated_at"),
    )
    sa.Table(
        "messages",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("buttons", sa.JSON),
        sa.Column("client_id", sa.String(64)),
        sa.Column("author", sa.String(200)),
        sa.Column("language", sa.String(5)),
        sa.Column("intent", sa.String(100)),
        sa.Column("confidence", sa.Float),
        _when("created_at", nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
    )
    sa.Table(
        "inbox_decisions",
        metadata,
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("decision", sa.String(100), nullable=False),
        sa.Column("example", sa.Text),
        sa.Column("decided_by", sa.String(64), nullable=False),
        _when("decided_at", nullable=False),
    )
    sa.Table(
        "tickets",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("customer_id", sa.String(20)),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("done_by", sa.String(64)),
        _when("done_at"),
    )
    sa.Table(
        "agent_notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        _when("created_at", nullable=False),
    )
    sa.Table(
        "staff_users",
        metadata,
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("availability", sa.String(10), nullable=False),
        _when("last_seen_at"),
        _when("created_at", nullable=False),
        _when("sessions_valid_after"),
    )
    sa.Table(
        "login_failures",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        _when("at", nullable=False),
        sa.Index("ix_login_failures_username_at", "username", "at"),
        sa.Index("ix_login_failures_address_at", "address", "at"),
    )
    sa.Table(
        "model_records",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("model_id", sa.String(64), unique=True),
        _when("created_at", nullable=False),
        sa.Column("trained_by", sa.String(100), nullable=False),
        sa.Column("training_seconds", sa.Float),
        sa.Column("finetuned_from", sa.Integer),
        sa.Column("data_fingerprint", sa.String(64)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("nlu_scores", sa.JSON),
        sa.Column("conversations_passed", sa.Integer),
        sa.Column("conversations_failed", sa.Integer),
        sa.Column("test_set_fingerprint", sa.String(64)),
        _when("evaluated_at"),
        sa.Column("evaluation_seconds", sa.Float),
        _when("live_since"),
        sa.Column("notes", sa.Text, nullable=False),
    )
    return metadata


def upgrade() -> None:
    connection = op.get_bind()
    metadata = schema()
    metadata.create_all(connection, checkfirst=True)  # 1. an empty database gets everything here
    present = sa.inspect(connection)
    for table in metadata.sorted_tables:
        columns = {column["name"] for column in present.get_columns(table.name)}
        for column in table.columns:  # 2.
            if column.name not in columns and column.nullable and column.server_default is None:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexes = {index["name"] for index in present.get_indexes(table.name)}
        for index in table.indexes:  # 3.
            if index.name not in indexes:
                index.create(connection)

    def ours(name: str | None, kind: str, _parents: object) -> bool:
        return kind != "table" or name in metadata.tables

    def matters(difference: tuple) -> bool:
        # SQLite lets a primary key that is not an INTEGER hold NULL unless it says NOT NULL, and reports it
        # nullable: a table made by hand without it is still the table Varde uses.
        kind, _schema, table, column = difference[:4]
        return not (kind == "modify_nullable" and metadata.tables[table].columns[column].primary_key)

    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": ours})
    differences = []
    for found in compare_metadata(context, metadata):  # a column's differences come as one list
        kept = [item for item in found if matters(item)] if isinstance(found, list) else [found]
        differences.extend(kept)
    if differences:  # 4.
        listed = "\n  ".join(str(difference) for difference in differences)
        raise CommandError(  # bot/store/migrate.py tells the operator this, without a traceback
            "This database has Varde's tables, but not as an earlier Varde made them, so it is not adopted "
            f"(nothing was recorded in alembic_version). Differences from revision 0001:\n  {listed}\n"
            "Change the tables by hand to match, or move the data to an empty database and upgrade that."
        )


def downgrade() -> None:
    schema().drop_all(op.get_bind())
