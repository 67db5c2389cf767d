"""Tenant-led indexes where a tenant's deletion or its own requests read every tenant's rows (ADR 0040, 0043).

payments and refunds: (tenant_id, status, created_at / settled_at), the dashboard's and overview's money figures
of one tenant; webhook_deliveries: (tenant_id, status), a sandbox tenant's clock moving its pending deliveries;
order_tokens and dashboard_sessions: (tenant_id). Each also serves DELETE ... WHERE tenant_id = :tenant. The
queues the background jobs read across tenants keep their own indexes. The orders table is not touched here.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, columns): each index is named as the metadata's naming convention names it.
_INDEXES = (
    ("order_tokens", ["tenant_id"]),
    ("payments", ["tenant_id", "status", "created_at"]),
    ("refunds", ["tenant_id", "status", "settled_at"]),
    ("webhook_deliveries", ["tenant_id", "status"]),
    ("dashboard_sessions", ["tenant_id"]),
)


def _name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in _INDEXES:
        op.create_index(op.f(_name(table, columns)), table, columns)


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(op.f(_name(table, columns)), table_name=table)
