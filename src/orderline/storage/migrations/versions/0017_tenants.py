"""Tenants (issue 13, ADR 0040): every tenant-owned row names its tenant, every index a request uses leads with it.

Rows from before are the public pool's: the column's default is the nil UUID. Uniqueness becomes per tenant
(usernames, emails, voucher codes, idempotency keys). SQLite rebuilds only the three tables whose constraints
change; every other table gains its column by ALTER TABLE, which is instant on both engines.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables that gain tenant_id NOT NULL DEFAULT <nil> without any other change to their constraints.
_PLAIN = (
    "pets",
    "orders",
    "order_tokens",
    "audit_log",
    "payments",
    "refunds",
    "outbox",
    "webhook_subscriptions",
    "webhook_deliveries",
    "dashboard_sessions",
)

# (table, old index, new index, new columns)
_INDEXES = (
    ("pets", "ix_pets_species_id", "ix_pets_tenant_id_species_id", ["tenant_id", "species", "id"]),
    ("pets", None, "ix_pets_tenant_id_id", ["tenant_id", "id"]),
    ("orders", None, "ix_orders_tenant_id_seq", ["tenant_id", "seq"]),
    ("orders", "ix_orders_status_seq", "ix_orders_tenant_id_status_seq", ["tenant_id", "status", "seq"]),
    ("orders", "ix_orders_customer_id_seq", "ix_orders_tenant_id_customer_id_seq", ["tenant_id", "customer_id", "seq"]),
    (
        "orders",
        "ix_orders_customer_id_status_seq",
        "ix_orders_tenant_id_customer_id_status_seq",
        ["tenant_id", "customer_id", "status", "seq"],
    ),
    (
        "orders",
        "ix_orders_placed_by_key_seq",
        "ix_orders_tenant_id_placed_by_key_seq",
        ["tenant_id", "placed_by_key", "seq"],
    ),
    (
        "orders",
        "ix_orders_placed_by_key_status_seq",
        "ix_orders_tenant_id_placed_by_key_status_seq",
        ["tenant_id", "placed_by_key", "status", "seq"],
    ),
    ("orders", "ix_orders_created_at_seq", "ix_orders_tenant_id_created_at_seq", ["tenant_id", "created_at", "seq"]),
    ("orders", "ix_orders_created_day_seq", "ix_orders_tenant_id_created_day_seq", ["tenant_id", "created_day", "seq"]),
    (
        "orders",
        "ix_orders_created_hour_seq",
        "ix_orders_tenant_id_created_hour_seq",
        ["tenant_id", "created_hour", "seq"],
    ),
    (
        "audit_log",
        "ix_audit_log_entity_type_entity_id_id",
        "ix_audit_log_tenant_id_entity_type_entity_id_id",
        ["tenant_id", "entity_type", "entity_id", "id"],
    ),
    ("audit_log", "ix_audit_log_actor_id_id", "ix_audit_log_tenant_id_actor_id_id", ["tenant_id", "actor_id", "id"]),
    ("audit_log", "ix_audit_log_action_id", "ix_audit_log_tenant_id_action_id", ["tenant_id", "action", "id"]),
    ("audit_log", "ix_audit_log_occurred_at", "ix_audit_log_tenant_id_occurred_at", ["tenant_id", "occurred_at"]),
    ("outbox", None, "ix_outbox_tenant_id_seq", ["tenant_id", "seq"]),
    (
        "webhook_subscriptions",
        "ix_webhook_subscriptions_order_id",
        "ix_webhook_subscriptions_tenant_id_order_id",
        ["tenant_id", "order_id"],
    ),
)


def _nil() -> sa.TextClause:
    """The public pool as each engine stores a UUID (SQLite: SQLAlchemy's 32 hex digits)."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("'00000000-0000-0000-0000-000000000000'")
    return sa.text("'00000000000000000000000000000000'")


def _tenant_column() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False, server_default=_nil())


def upgrade() -> None:
    for table in _PLAIN:
        op.add_column(table, _tenant_column())
    op.add_column("api_keys", sa.Column("tenant_id", sa.Uuid(), nullable=True))  # NULL: the operator's, unbound
    for table, old, new, columns in _INDEXES:
        if old is not None:
            op.drop_index(old, table_name=table)
        op.create_index(new, table, columns)
    with op.batch_alter_table("users") as batch:
        batch.add_column(_tenant_column())
        batch.drop_constraint("uq_users_username", type_="unique")
        batch.drop_constraint("uq_users_email", type_="unique")
        batch.drop_index("ix_users_status_id")
        batch.create_unique_constraint("uq_users_tenant_id_username", ["tenant_id", "username"])
        batch.create_unique_constraint("uq_users_tenant_id_email", ["tenant_id", "email"])
        batch.create_index("ix_users_tenant_id_status_id", ["tenant_id", "status", "id"])
    with op.batch_alter_table("vouchers") as batch:
        batch.add_column(_tenant_column())
        batch.drop_constraint("uq_vouchers_code", type_="unique")
        batch.create_unique_constraint("uq_vouchers_tenant_id_code", ["tenant_id", "code"])
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(_tenant_column())
        batch.drop_constraint("pk_idempotency_keys", type_="primary")
        batch.create_primary_key("pk_idempotency_keys", ["tenant_id", "owner", "key"])


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint("pk_idempotency_keys", type_="primary")
        batch.create_primary_key("pk_idempotency_keys", ["owner", "key"])
        batch.drop_column("tenant_id")
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_constraint("uq_vouchers_tenant_id_code", type_="unique")
        batch.create_unique_constraint("uq_vouchers_code", ["code"])
        batch.drop_column("tenant_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_tenant_id_status_id")
        batch.drop_constraint("uq_users_tenant_id_username", type_="unique")
        batch.drop_constraint("uq_users_tenant_id_email", type_="unique")
        batch.create_unique_constraint("uq_users_username", ["username"])
        batch.create_unique_constraint("uq_users_email", ["email"])
        batch.create_index("ix_users_status_id", ["status", "id"])
        batch.drop_column("tenant_id")
    for table, old, new, columns in reversed(_INDEXES):
        op.drop_index(new, table_name=table)
        if old is not None:
            op.create_index(old, table, columns[1:])
    op.drop_column("api_keys", "tenant_id")
    for table in reversed(_PLAIN):
        op.drop_column(table, "tenant_id")
