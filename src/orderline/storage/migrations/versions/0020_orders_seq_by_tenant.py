"""A tenant's orders are unique by (tenant_id, seq); PostgreSQL drops the global unique index on seq (ADR 0040).

A prepared statement's generic plan cannot know that a tenant is small, and with an index on seq alone it walked
every tenant's orders newest first for a small tenant's list (331 ms beside a tenant of 1M orders, 0.2 ms
without it). The sequence already makes seq unique; SQLite keeps its unique seq index, which its MAX(seq) + 1
reads. The index on (tenant_id, seq) becomes unique, which a tenant's keyset lists and look-ups walk.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_orders_tenant_id_seq", table_name="orders")
    op.create_index("ix_orders_tenant_id_seq", "orders", ["tenant_id", "seq"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_orders_seq", "orders", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("uq_orders_seq", "orders", ["seq"])
    op.drop_index("ix_orders_tenant_id_seq", table_name="orders")
    op.create_index("ix_orders_tenant_id_seq", "orders", ["tenant_id", "seq"])
