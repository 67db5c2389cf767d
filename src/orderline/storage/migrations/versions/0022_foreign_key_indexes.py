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

# (table, column, partial): each index is named as the metadata's naming convention names it.
_INDEXES = (
    ("orders", "voucher_id", True),
    ("orders", "billing_address_id", True),
    ("dashboard_sessions", "user_id", False),
)


def upgrade() -> None:
    for table, column, partial in _INDEXES:
        where = {"postgresql_where": sa.text(f"{column} IS NOT NULL"), "sqlite_where": sa.text(f"{column} IS NOT NULL")}
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], **(where if partial else {}))


def downgrade() -> None:
    for table, column, _partial in reversed(_INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
