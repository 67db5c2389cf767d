"""Sandbox controls (ADR 0041): the tenants the sandbox made with their test clocks, and injected faults.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("clock_offset_seconds", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sandbox_tenants")),
    )
    op.create_table(
        "sandbox_faults",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("call_kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "call_kind", name=op.f("pk_sandbox_faults")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_faults")
    op.drop_table("sandbox_tenants")
