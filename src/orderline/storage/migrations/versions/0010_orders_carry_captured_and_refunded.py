"""An order carries the money its payment facts give, beside its payment status: `orders.captured_minor`
(its payments that succeeded) and `orders.refunded_minor` (their refunds that succeeded).

Existing orders are filled in from their payments and refunds, as `payment_summary` counts them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAPTURED = """
UPDATE orders SET captured_minor = (
    SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p WHERE p.order_id = orders.id AND p.status = 'SUCCEEDED'
)
"""
# Only refunds of captured payments count, as in payment_status: a refund is never asked of any other.
_REFUNDED = """
UPDATE orders SET refunded_minor = (
    SELECT COALESCE(SUM(r.amount_minor), 0) FROM refunds r JOIN payments p ON p.id = r.payment_id
    WHERE r.order_id = orders.id AND r.status = 'SUCCEEDED' AND p.status = 'SUCCEEDED'
)
"""


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("captured_minor", sa.BigInteger(), server_default="0", nullable=False))
        batch.add_column(sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(_CAPTURED)
    op.execute(_REFUNDED)


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("refunded_minor")
        batch.drop_column("captured_minor")
