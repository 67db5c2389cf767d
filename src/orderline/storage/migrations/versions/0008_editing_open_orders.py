"""Editing an open order: vouchers gain a minimum subtotal, refunds say whether they return removed lines,
and an order's payment status has room for PARTIALLY_REFUNDED.

Existing refunds are all refunds of a whole order (a cancel's, or of a charge that raced one): not partial.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("payment_status", existing_type=sa.String(length=16), type_=sa.String(length=32),
                           existing_nullable=False, existing_server_default="UNPAID")  # fmt: skip
    with op.batch_alter_table("vouchers") as batch:
        batch.add_column(sa.Column("min_subtotal_minor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("partial", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("partial")
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_column("min_subtotal_minor")
    op.execute("UPDATE orders SET payment_status = 'PAID' WHERE payment_status = 'PARTIALLY_REFUNDED'")
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("payment_status", existing_type=sa.String(length=32), type_=sa.String(length=16),
                           existing_nullable=False, existing_server_default="UNPAID")  # fmt: skip
