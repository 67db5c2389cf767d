"""The sandbox's tables (ADR 0041): the tenants it made with their clock offsets, and the faults waiting."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.lookups import one_statement
from orderline.application.sandbox import Call, Fault
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase


class SqlSandboxStore:
    """Each method is one statement (in a transaction of its own where it writes)."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._db = db

    async def add_tenant(self, tenant: UUID, now: datetime) -> None:
        async with self._db.transaction() as uow:
            await uow.connection.execute(
                "INSERT INTO sandbox_tenants (tenant_id, clock_offset_seconds, created_at) VALUES (:tenant, 0, :now)",
                {"tenant": tenant, "now": now},
            )
            await uow.commit()

    async def offset_of(self, tenant: UUID) -> int | None:
        async with one_statement(self._db) as uow:
            row = await uow.connection.fetch_one(
                "SELECT clock_offset_seconds FROM sandbox_tenants WHERE tenant_id = :tenant", {"tenant": tenant}
            )
        return None if row is None else int(row["clock_offset_seconds"])

    async def advance(self, tenant: UUID, seconds: int) -> int | None:
        async with self._db.transaction() as uow:
            row = await uow.connection.fetch_one(
                "UPDATE sandbox_tenants SET clock_offset_seconds = clock_offset_seconds + :seconds"
                " WHERE tenant_id = :tenant RETURNING clock_offset_seconds",
                {"tenant": tenant, "seconds": seconds},
            )
            await uow.commit()
        return None if row is None else int(row["clock_offset_seconds"])

    async def add_fault(self, tenant: UUID, call: Call, fault: Fault, now: datetime) -> None:
        async with self._db.transaction() as uow:
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
        async with self._db.transaction() as uow:
            row = await uow.connection.fetch_one(
                "DELETE FROM sandbox_faults WHERE tenant_id = :tenant AND call_kind = :call RETURNING outcome",
                {"tenant": tenant, "call": str(call)},
            )
            await uow.commit()
        return None if row is None else Fault(row["outcome"])
