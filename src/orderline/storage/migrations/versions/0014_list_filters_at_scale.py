"""List filters at scale (ADR 0036): owner + status + seq indexes, and the UTC day and hour of creation as
generated columns with (day, seq) and (hour, seq) indexes, from which a list's createdBefore / createdAfter
become exact seq bounds.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL (15) only stores a generated column, so adding it rewrites the table once; SQLite computes it on
# read (VIRTUAL: ALTER TABLE cannot add a STORED one) and the index holds the values.
_DAY = {
    "postgresql": ("(created_at AT TIME ZONE 'UTC')::date", True),
    "sqlite": ("substr(created_at, 1, 10)", None),
}
_HOUR = {
    "postgresql": ("date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'", True),
    "sqlite": ("substr(created_at, 1, 13) || ':00:00.000000'", None),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    day, stored = _DAY[dialect]
    op.add_column("orders", sa.Column("created_day", sa.Date(), sa.Computed(sa.text(day), persisted=stored)))
    hour, stored = _HOUR[dialect]
    op.add_column(
        "orders", sa.Column("created_hour", sa.DateTime(timezone=True), sa.Computed(sa.text(hour), persisted=stored))
    )
    op.create_index(op.f("ix_orders_customer_id_status_seq"), "orders", ["customer_id", "status", "seq"])
    op.create_index(op.f("ix_orders_placed_by_key_status_seq"), "orders", ["placed_by_key", "status", "seq"])
    op.create_index(op.f("ix_orders_created_day_seq"), "orders", ["created_day", "seq"])
    op.create_index(op.f("ix_orders_created_hour_seq"), "orders", ["created_hour", "seq"])
    # The window's edge hours are read from this one alone (seq in the index): it replaces created_at's own.
    op.create_index(op.f("ix_orders_created_at_seq"), "orders", ["created_at", "seq"])
    op.drop_index(op.f("ix_orders_created_at"), table_name="orders")


def downgrade() -> None:
    op.create_index(op.f("ix_orders_created_at"), "orders", ["created_at"])
    op.drop_index(op.f("ix_orders_created_at_seq"), table_name="orders")
    op.drop_index(op.f("ix_orders_created_hour_seq"), table_name="orders")
    op.drop_index(op.f("ix_orders_created_day_seq"), table_name="orders")
    op.drop_index(op.f("ix_orders_placed_by_key_status_seq"), table_name="orders")
    op.drop_index(op.f("ix_orders_customer_id_status_seq"), table_name="orders")
    with op.batch_alter_table("orders") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("created_hour")
        batch.drop_column("created_day")
