"""Payments keep the gateway's card token, so a charge interrupted by a crash can be asked again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("card_token", sa.String(length=200), nullable=True))
    op.create_index(op.f("ix_payments_status_created_at"), "payments", ["status", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_status_created_at"), table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("card_token")
