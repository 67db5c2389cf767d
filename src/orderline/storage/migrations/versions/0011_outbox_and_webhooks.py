"""The transactional outbox and webhooks (ADR 0027): `outbox` (one row per event, written with the change),
`webhook_subscriptions` (also an order's callback, with `order_id` set) and `webhook_deliveries` (one event to
one subscription, with its attempts).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("subscription_id", sa.Uuid()),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("dispatched_at", _TIMESTAMP),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
    )
    op.create_index(
        "ix_outbox_undispatched",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("dispatched_at IS NULL"),
        sqlite_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_index(op.f("ix_outbox_order_id_seq"), "outbox", ["order_id", "seq"])
    op.create_index(op.f("ix_outbox_occurred_at"), "outbox", ["occurred_at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("previous_secret", sa.String(200)),
        sa.Column("previous_secret_expires_at", _TIMESTAMP),
        sa.Column("disabled_reason", sa.String(200)),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(op.f("ix_webhook_subscriptions_order_id"), "webhook_subscriptions", ["order_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIMESTAMP),
        sa.Column("locked_until", _TIMESTAMP),
        sa.Column("last_attempt_at", _TIMESTAMP),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_response", sa.Text()),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("delivered_at", _TIMESTAMP),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(op.f("ix_webhook_deliveries_subscription_id_id"), "webhook_deliveries", ["subscription_id", "id"])
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        op.f("ix_webhook_deliveries_subscription_id_order_id_event_seq"),
        "webhook_deliveries",
        ["subscription_id", "order_id", "event_seq"],
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("outbox")
