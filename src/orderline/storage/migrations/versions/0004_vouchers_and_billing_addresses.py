"""Vouchers and billing addresses, and the order columns that link them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_addresses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_addresses")),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name=op.f("ck_vouchers_uses_within_limit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voucher_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("voucher_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("billing_address_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_orders_voucher_id_vouchers"), "vouchers", ["voucher_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_billing_address_id_billing_addresses"),
            "billing_addresses",
            ["billing_address_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_billing_address_id_billing_addresses"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_orders_voucher_id_vouchers"), type_="foreignkey")
        batch_op.drop_column("billing_address_id")
        batch_op.drop_column("voucher_code")
        batch_op.drop_column("voucher_id")

    op.drop_table("vouchers")
    op.drop_table("billing_addresses")
