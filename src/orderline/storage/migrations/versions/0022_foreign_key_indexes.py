"""Indexes for the look-ups foreign-key checks make (ADR 0040): orders.voucher_id and orders.billing_address_id
(partial, WHERE the column IS NOT NULL: most orders have neither) and dashboard_sessions.user_id.

Deleting a voucher, a billing address or a user makes each engine search the referencing table by that column
alone, once per row deleted; without these each search read every tenant's orders (or sessions). A tenant-led
index cannot serve it: the check names no tenant.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each index is named as the metadata's naming convention names it.
_PARTIAL = ("voucher_id", "billing_address_id")  # of orders


def upgrade() -> None:
    for column in _PARTIAL:
        op.create_index(
            op.f(f"ix_orders_{column}"),
            "orders",
            [column],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index(op.f("ix_dashboard_sessions_user_id"), "dashboard_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_sessions_user_id"), table_name="dashboard_sessions")
    for column in reversed(_PARTIAL):
        op.drop_index(op.f(f"ix_orders_{column}"), table_name="orders")
