"""Order numbers counted per tenant (issue 13, ADR 0040): orders.tenant_seq and tenant_counters.

The public pool's orders keep the number seq gives them; every other tenant's are counted from 1 in its own
tenant_counters row. Orders placed in a tenant before this keep seq-derived numbers (tenant_seq NULL).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_counters")),
    )
    op.add_column("orders", sa.Column("tenant_seq", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_orders_tenant_id_tenant_seq"), "orders", ["tenant_id", "tenant_seq"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_tenant_id_tenant_seq"), table_name="orders")
    op.drop_column("orders", "tenant_seq")
    op.drop_table("tenant_counters")
