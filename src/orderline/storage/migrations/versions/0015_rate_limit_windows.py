"""Rate-limit counters shared by several web processes without Redis (ADR 0035): one row per open window.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index(op.f("ix_rate_limit_windows_ends_at"), "rate_limit_windows", ["ends_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Counted on every request: no WAL for them. A crash empties the table, which opens every window anew.
        op.execute("ALTER TABLE rate_limit_windows SET UNLOGGED")


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_windows_ends_at"), table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
