"""The live stream's order on PostgreSQL (ADR 0030): `outbox.tx_id`, the id of the transaction that wrote the
row, so a stream serves only events every older transaction has settled, and never skips one that committed
after a later-numbered one.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
# Helper C's migration on its own branch; if 0012 (delivery) lands first, this follows 0012 instead.
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("tx_id", sa.BigInteger()))
    if op.get_bind().dialect.name == "postgresql":
        # Every writer of the outbox gets it without knowing: the column defaults to its own transaction id
        # (assigning one if it had none yet). xid8 fits a BIGINT for the next few million years.
        op.execute("ALTER TABLE outbox ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint)")
    op.create_index(op.f("ix_outbox_tx_id_seq"), "outbox", ["tx_id", "seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_tx_id_seq"), table_name="outbox")
    op.drop_column("outbox", "tx_id")
