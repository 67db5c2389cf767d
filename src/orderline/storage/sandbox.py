"""The sandbox's tables (ADR 0041): the tenants it made with their clock offsets, and the faults waiting; and the
set-based statements that move a tenant's webhook retries with its clock and delete a tenant everywhere."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.sandbox import Call, Fault
from orderline.storage.driver import Connection
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase


class SqlSandboxStore:
    """Each method is one statement (in a transaction of its own where it writes)."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._db = db

    async def add_tenant(self, tenant: UUID, now: datetime) -> None:
        async with self._db.transaction(tenant) as uow:
            await uow.connection.execute(
                "INSERT INTO sandbox_tenants (tenant_id, clock_offset_seconds, created_at) VALUES (:tenant, 0, :now)",
                {"tenant": tenant, "now": now},
            )
            await uow.commit()

    async def offset_of(self, tenant: UUID) -> int | None:
        async with self._db.lookup(tenant) as uow:  # one statement: outside a transaction on both engines
            row = await uow.connection.fetch_one(
                "SELECT clock_offset_seconds FROM sandbox_tenants WHERE tenant_id = :tenant", {"tenant": tenant}
            )
        return None if row is None else int(row["clock_offset_seconds"])

    async def advance(self, tenant: UUID, seconds: int) -> int | None:
        """The clock, and the tenant's pending webhook deliveries brought as much closer (their attempts are
        stamped with real time, which receivers check), in one transaction."""
        async with self._db.transaction(tenant) as uow:
            row = await uow.connection.fetch_one(
                "UPDATE sandbox_tenants SET clock_offset_seconds = clock_offset_seconds + :seconds"
                " WHERE tenant_id = :tenant RETURNING clock_offset_seconds",
                {"tenant": tenant, "seconds": seconds},
            )
            if row is None:
                return None
            await uow.connection.execute(
                f"UPDATE webhook_deliveries SET next_attempt_at = {_earlier(uow.connection, 'next_attempt_at')}"  # noqa: S608
                " WHERE tenant_id = :tenant AND status = 'PENDING'",
                {"tenant": tenant, "seconds": seconds},
            )
            await uow.commit()
        return int(row["clock_offset_seconds"])

    async def add_fault(self, tenant: UUID, call: Call, fault: Fault, now: datetime) -> None:
        async with self._db.transaction(tenant) as uow:
            await uow.connection.execute(
                "INSERT INTO sandbox_faults (tenant_id, call_kind, outcome, created_at)"
                " VALUES (:tenant, :call, :outcome, :now)"
                " ON CONFLICT (tenant_id, call_kind) DO UPDATE SET outcome = excluded.outcome,"
                " created_at = excluded.created_at",
                {"tenant": tenant, "call": str(call), "outcome": str(fault), "now": now},
            )
            await uow.commit()

    async def take_fault(self, tenant: UUID, call: Call) -> Fault | None:
        # One statement finds and removes it: of two processes asking at once, one gets it and the other finds
        # nothing (PostgreSQL's second DELETE waits for the first and then sees the row gone).
        async with self._db.transaction(tenant) as uow:
            row = await uow.connection.fetch_one(
                "DELETE FROM sandbox_faults WHERE tenant_id = :tenant AND call_kind = :call RETURNING outcome",
                {"tenant": tenant, "call": str(call)},
            )
            await uow.commit()
        return None if row is None else Fault(row["outcome"])

    async def remove_tenant(self, tenant: UUID) -> bool:
        async with self._db.transaction(tenant) as uow:
            # The sandbox's own row first: a tenant it did not make (a real shop's) is never touched.
            if not await uow.connection.execute(
                "DELETE FROM sandbox_tenants WHERE tenant_id = :tenant", {"tenant": tenant}
            ):
                return False
            for statement in TENANT_DELETES:
                await uow.connection.execute(statement, {"tenant": tenant})
            await uow.commit()
        return True


# Children before parents, one statement per table. Order lines and billing addresses name no tenant: they go
# with the tenant's orders (an address before its order, whose link to it is the only way to find it; the
# address of an order erased earlier was unlinked then, and stays, like any erased order's).
TENANT_DELETES = (
    "DELETE FROM webhook_deliveries WHERE tenant_id = :tenant",
    "DELETE FROM webhook_subscriptions WHERE tenant_id = :tenant",
    "DELETE FROM outbox WHERE tenant_id = :tenant",
    "DELETE FROM refunds WHERE tenant_id = :tenant",
    "DELETE FROM payments WHERE tenant_id = :tenant",
    "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE tenant_id = :tenant)",
    "DELETE FROM order_tokens WHERE tenant_id = :tenant",
    "DELETE FROM billing_addresses WHERE id IN (SELECT billing_address_id FROM orders WHERE tenant_id = :tenant)",
    "DELETE FROM orders WHERE tenant_id = :tenant",
    "DELETE FROM vouchers WHERE tenant_id = :tenant",
    "DELETE FROM pets WHERE tenant_id = :tenant",
    "DELETE FROM dashboard_sessions WHERE tenant_id = :tenant",
    "DELETE FROM users WHERE tenant_id = :tenant",
    "DELETE FROM idempotency_keys WHERE tenant_id = :tenant",
    "DELETE FROM audit_log WHERE tenant_id = :tenant",
    "DELETE FROM api_keys WHERE tenant_id = :tenant",
    "DELETE FROM sandbox_faults WHERE tenant_id = :tenant",
    "DELETE FROM tenant_counters WHERE tenant_id = :tenant",
)


def _earlier(connection: Connection, column: str) -> str:
    """``column`` moved ``:seconds`` (whole seconds) earlier, in each engine's words. SQLite keeps moments as
    'YYYY-MM-DD HH:MM:SS.ffffff' text: the whole seconds are moved, and the fraction kept as it was."""
    if connection.dialect == "postgresql":
        return f"{column} - :seconds * INTERVAL '1 second'"
    return f"strftime('%Y-%m-%d %H:%M:%S', {column}, '-' || :seconds || ' seconds') || substr({column}, 20)"
