"""The database schema as SQLAlchemy metadata: the source of the Alembic migrations, not of queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement, false

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Timestamp = DateTime(timezone=True)


class UtcDay(FunctionElement[Any]):
    """The UTC calendar day of ``orders.created_at``, in each engine's words (both deterministic, so indexable)."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(UtcDay, "postgresql")
def _utc_day_postgresql(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    return "(created_at AT TIME ZONE 'UTC')::date"


@compiles(UtcDay, "sqlite")
def _utc_day_sqlite(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    return "substr(created_at, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (storage/sqlite_link.py)


class UtcHour(FunctionElement[Any]):
    """``orders.created_at`` cut down to its UTC hour, a moment in each engine's own format for moments."""

    type = Timestamp
    name = "utc_hour"
    inherit_cache = True


@compiles(UtcHour, "postgresql")
def _utc_hour_postgresql(element: UtcHour, compiler: SQLCompiler, **kw: Any) -> str:
    return "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"


@compiles(UtcHour, "sqlite")
def _utc_hour_sqlite(element: UtcHour, compiler: SQLCompiler, **kw: Any) -> str:
    return "substr(created_at, 1, 13) || ':00:00.000000'"


# Every tenant-owned row names its tenant (ADR 0040): the public pool is the nil UUID, so equality and indexes
# treat it like any tenant. The migration gives the column a default of the nil UUID (rows from before tenants).
# The schema objects only one engine has, each declared with ``.ddl_if(dialect=...)`` below: CREATE TABLE honours
# that, Alembic's comparison of a database with this metadata does not, so it asks ``exists_on``.
ONE_ENGINE_ONLY = {"uq_orders_seq": "sqlite"}


def exists_on(dialect: str, name: str | None) -> bool:
    """Whether the metadata's object called ``name`` is in a database of ``dialect`` (an Alembic
    ``include_object`` filter asks it)."""
    return ONE_ENGINE_ONLY.get(name or "", dialect) == dialect


def tenant_column() -> Column[Any]:
    return Column("tenant_id", Uuid, nullable=False)


# PostgreSQL numbers orders from this sequence; SQLite takes MAX(seq) + 1 under its write lock.
order_seq = Sequence("order_seq", metadata=metadata)

pets = Table(
    "pets",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("name", String(200), nullable=False),
    Column("species", String(16), nullable=False),
    Column("breed", String(200)),
    Column("age_months", Integer),
    Column("size", String(16)),
    Column("color", String(100)),
    Column("gender", String(16)),
    Column("good_with_kids", Boolean),
    Column("good_with_pets", Boolean),
    Column("description", Text),
    Column("intake_date", Date),
    Column("photos", Json, nullable=False),
    Column("medical_info", Json, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stock_total", Integer, nullable=False),
    Column("stock_reserved", Integer, nullable=False),
    Column("stock_sold", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("removed_at", Timestamp),
    CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
    CheckConstraint(
        "stock_reserved >= 0 AND stock_sold >= 0 AND stock_reserved + stock_sold <= stock_total",
        name="stock_conserved",
    ),
    Index(None, "tenant_id", "species", "id"),
    Index(None, "tenant_id", "id"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, nullable=False),  # one sequence for every tenant: the keyset key
    tenant_column(),
    # The order's place in its own tenant's count (its number is NUMBER_OFFSET + it), from tenant_counters in
    # the INSERT itself; NULL in the public pool, whose numbers come from seq as they always did (ADR 0040).
    Column("tenant_seq", BigInteger),
    Column("customer_id", Uuid),
    Column("currency", String(3), nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("note", Text),
    Column("status", String(16), nullable=False),
    Column("cancel_reason", String(32)),
    Column("cancel_note", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("cancelled_at", Timestamp),
    Column("cancel_requested_at", Timestamp),
    Column("paid_at", Timestamp),
    Column("payment_status", String(32), nullable=False, server_default="UNPAID"),  # PARTIALLY_REFUNDED is 18
    # What the payment facts add up to, kept with payment_status: payments and refunds that succeeded.
    Column("captured_minor", BigInteger, nullable=False, server_default="0"),
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),
    Column("shipped_at", Timestamp),
    Column("delivered_at", Timestamp),
    Column("placed_by_key", Uuid),
    Column("voucher_id", ForeignKey("vouchers.id")),
    Column("voucher_code", String(32)),
    # Erasing an order keeps its billing address row; deleting an address unlinks it from orders.
    Column("billing_address_id", ForeignKey("billing_addresses.id", ondelete="SET NULL")),
    # The list's creation-time filters become seq bounds through this (ADR 0036): written by the database
    # (PostgreSQL stores it, SQLite computes it), never by us.
    Column("created_day", Date, Computed(UtcDay())),
    Column("created_hour", Timestamp, Computed(UtcHour())),
    CheckConstraint("total_minor >= 0", name="total_not_negative"),
    # SQLite's next seq is MAX(seq) + 1, which reads this; PostgreSQL's sequence needs no index, and with one a
    # prepared statement's generic plan walked every tenant's orders for a small tenant's list (ADR 0040).
    UniqueConstraint("seq").ddl_if(dialect="sqlite"),
    # What each index serves is in ADR 0036; every one of them costs every create.
    # Each leads with the tenant (ADR 0040), so a large tenant's orders never stand in a small one's way.
    Index(None, "tenant_id", "seq", unique=True),
    Index(None, "tenant_id", "status", "seq"),
    Index(None, "tenant_id", "customer_id", "seq"),
    Index(None, "tenant_id", "customer_id", "status", "seq"),
    Index(None, "tenant_id", "placed_by_key", "seq"),
    Index(None, "tenant_id", "placed_by_key", "status", "seq"),
    Index(None, "tenant_id", "created_at", "seq"),
    Index(None, "tenant_id", "created_day", "seq"),
    Index(None, "tenant_id", "created_hour", "seq"),
    Index(None, "tenant_id", "tenant_seq", unique=True),  # a number never repeats in a tenant; look-up by number
    # The two that do not lead with the tenant (migration 0022, ADR 0040): deleting a voucher or a billing address
    # makes each engine look for the orders that refer to it by this column alone, per row deleted. Partial: most
    # orders have neither, and `col = ?` implies `col IS NOT NULL`, so only such look-ups can walk them.
    Index(
        None, "voucher_id", postgresql_where=text("voucher_id IS NOT NULL"), sqlite_where=text("voucher_id IS NOT NULL")
    ),
    Index(
        None,
        "billing_address_id",
        postgresql_where=text("billing_address_id IS NOT NULL"),
        sqlite_where=text("billing_address_id IS NOT NULL"),
    ),
)

# Each tenant's last order number (not the public pool's: seq numbers those). The row is locked from the INSERT
# that takes a number to COMMIT, so a tenant's placements serialise on it there, and only there.
tenant_counters = Table(
    "tenant_counters",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

# The bearer token of an anonymous order, stored as a SHA-256 hash (it is shown once).
order_tokens = Table(
    "order_tokens",
    metadata,
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    tenant_column(),  # the order's: its bearer acts in that tenant
    Index(None, "tenant_id"),  # a tenant's deletion (migration 0021)
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("pet_id", ForeignKey("pets.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index(None, "pet_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    # The tenant a key is bound to: it acts there whatever X-Tenant-ID says. NULL: the platform operator's key,
    # which acts in the tenant its request names (ADR 0040).
    Column("tenant_id", Uuid),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("username", String(64), nullable=False),
    Column("email", String(254), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("phone", String(32)),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("tenant_id", "username"),
    UniqueConstraint("tenant_id", "email"),
    Index(None, "tenant_id", "status", "id"),
)

# Append-only: nothing updates or deletes these rows.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("action", String(40), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64)),
    Column("entity_type", String(16), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("reason", Text),
    Column("changes", Json, nullable=False),
    Column("request_id", String(128)),
    Column("occurred_at", Timestamp, nullable=False),
    Column("api", String(16)),  # the API a change came through: "native", a dialect's name; null from the CLI
    Index(None, "tenant_id", "entity_type", "entity_id", "id"),
    Index(None, "tenant_id", "actor_id", "id"),
    Index(None, "tenant_id", "action", "id"),
    Index(None, "tenant_id", "occurred_at"),
)

# Idempotency-Key: one row per (owner, key) for 24 hours; the response is kept once the request is done.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    tenant_column(),
    Column("owner", String(160), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer),
    Column("response_headers", Json),
    Column("response_body", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "owner", "key"),
    Index(None, "expires_at"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("code", String(32), nullable=False),
    Column("percent_off", Integer),
    Column("amount_off_minor", BigInteger),
    Column("currency", String(3)),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False),
    Column("expires_at", Timestamp),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("removed_at", Timestamp),
    # In `currency`, which an amount-off voucher shares (ADR 0022).
    Column("min_subtotal_minor", BigInteger),
    CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="uses_within_limit"),
    UniqueConstraint("tenant_id", "code"),
)

billing_addresses = Table(
    "billing_addresses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("line1", String(200), nullable=False),
    Column("line2", String(200)),
    Column("city", String(100), nullable=False),
    Column("state", String(100)),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

# Money facts outlive their order: erasure keeps them (without the card holder) so every amount
# captured and refunded stays accounted for. Hence order_id without a foreign key.
payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("order_id", Uuid, nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("gateway", String(32), nullable=False),
    Column("reference", String(200)),
    # last4, brand, expiry and the holder's name and address: never the number, never the CVC.
    Column("card", Json, nullable=False),
    Column("failure_code", String(64)),
    Column("failure_message", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # The gateway's token for the card (never the number), kept so a charge can be asked again after a crash.
    Column("card_token", String(200)),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    Index(None, "status", "created_at"),  # recovery's queue, across tenants
    Index(None, "tenant_id", "status", "created_at"),  # a tenant's money figures, and its deletion (migration 0021)
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("payment_id", ForeignKey("payments.id"), nullable=False, index=True),
    Column("order_id", Uuid, nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reference", String(200), unique=True),
    Column("failure_message", Text),
    Column("requested_at", Timestamp, nullable=False),
    Column("settled_at", Timestamp),
    # A refund of removed lines (ADR 0022): settling it never completes or rolls back a cancel.
    Column("partial", Boolean, nullable=False, server_default=false()),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    Index(None, "status", "requested_at"),  # the poller's queue, across tenants
    Index(None, "tenant_id", "status", "settled_at"),  # a tenant's money figures, and its deletion (migration 0021)
)

# The transactional outbox (ADR 0027): one row per event, written in the same transaction as the change that
# caused it and the change's audit entry. `seq` is the stream position (SSE `Last-Event-ID`); `id` is the
# event's `eventId` and every delivery's `webhook-id`. Rows are never updated but for `dispatched_at`, which
# the relay sets once it has made the event's deliveries.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    tenant_column(),
    Column("event_type", String(64), nullable=False),
    Column("order_id", Uuid),  # the order it is about: deliveries of one order's events keep their order
    Column("subscription_id", Uuid),  # only this subscription's (a ping), else every matching one
    Column("payload", Json, nullable=False),  # {eventId, eventType, timestamp, data}, as delivered
    Column("occurred_at", Timestamp, nullable=False),
    Column("dispatched_at", Timestamp),
    # PostgreSQL only (migration 0013 defaults it to the writing transaction's id, pg_current_xact_id()): the
    # live stream serves events in (tx_id, seq) order and only once every older transaction has ended, so an
    # event committing after a later-numbered one is never skipped (ADR 0030). NULL on SQLite: one writer.
    Column("tx_id", BigInteger),
    Index(
        "ix_outbox_undispatched",
        "seq",
        postgresql_where=text("dispatched_at IS NULL"),
        sqlite_where=text("dispatched_at IS NULL"),
    ),
    Index(None, "order_id", "seq"),
    Index(None, "occurred_at"),
    Index(None, "tx_id", "seq"),
    Index(None, "tenant_id", "seq"),
)

# Webhook subscriptions (`/v1/webhooks`) and, with `order_id` set, an order's one-off callback (the Pet Store's
# `orderProcessed`): both are delivered, signed and retried by the same machinery.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("url", Text, nullable=False),
    Column("events", Json, nullable=False),  # patterns such as "order.*"; ["*"] for every event
    Column("description", String(500)),
    Column("active", Boolean, nullable=False),
    Column("secret", String(200), nullable=False),  # whsec_<base64>: it must sign, so it is kept, not hashed
    Column("previous_secret", String(200)),  # still signs until previous_secret_expires_at (rotation)
    Column("previous_secret_expires_at", Timestamp),
    Column("disabled_reason", String(200)),  # why the service turned it off (a 410), null when it did not
    Column("order_id", Uuid),  # set for an order callback: only that order's events, hidden from /v1/webhooks
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index(None, "tenant_id", "order_id"),
)

# One event's delivery to one subscription: retried with backoff until it succeeds or dies. `event_seq` and
# `order_id` keep one order's events in order per subscription; `locked_until` is the lease of the worker that
# is sending it (a worker killed mid-send loses its lease, and the delivery is sent again with the same id).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    tenant_column(),
    Column("subscription_id", ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("order_id", Uuid),
    Column("status", String(16), nullable=False),  # PENDING, DELIVERED, DEAD
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp),
    Column("locked_until", Timestamp),
    Column("last_attempt_at", Timestamp),
    Column("last_status_code", Integer),
    Column("last_response", Text),  # the first bytes of the receiver's answer, or the error that stood for it
    Column("created_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp),
    Index(None, "subscription_id", "id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "subscription_id", "order_id", "event_seq"),
    Index(None, "tenant_id", "status"),  # a sandbox tenant's clock moves its PENDING ones; its deletion (0021)
)

# The dashboard's sign-in sessions (issue 12, ADR 0037): a browser holds the secret, we keep its hash.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    tenant_column(),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("ended_at", Timestamp),
    Index(None, "expires_at"),
    Index(None, "tenant_id"),  # a tenant's deletion (migration 0021); a session is found by its hash
    Index(None, "user_id"),  # deleting a user looks for its sessions by this (a foreign-key check; migration 0022)
)

# Fixed-window rate-limit counters that several web processes share when no Redis is configured (ADR 0035):
# one row per open window, counted and read in one statement, removed some time after `ends_at`. On
# PostgreSQL the table is UNLOGGED (migration 0015): counters are not worth a WAL write per request.
rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    Column("key", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("ends_at", Timestamp, nullable=False),
    Index(None, "ends_at"),
)

# Sandbox controls (ORDERLINE_SANDBOX, ADR 0041): the tenants the sandbox made, each with its test clock (seconds
# ahead of real time, only ever growing), and the fault waiting for a tenant's next call of each kind. Keyed by
# the tenant's id, with no foreign key: deleting a tenant deletes its rows here like everywhere else.
sandbox_tenants = Table(
    "sandbox_tenants",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("clock_offset_seconds", BigInteger, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

sandbox_faults = Table(
    "sandbox_faults",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("call_kind", String(16), nullable=False),  # charge, refund, webhook
    Column("outcome", String(16), nullable=False),  # fail, timeout, pending
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "call_kind"),
)
