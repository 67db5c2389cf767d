"""A tenant's time in the sandbox (ADR 0041): real time plus the offset of its test clock, for the task acting for it.

The tenant a task acts for, and its offset, live in a context variable, set for the length of a request (or of
one row of background work) and read by ``TenantClock`` — the clock every use case is given in the sandbox — and
by the adapters that take injected faults. Outside the sandbox nothing sets it and nothing reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from orderline.application.ports import Clock


@dataclass(frozen=True, slots=True)
class TenantTime:
    """The tenant a task acts for, and how far its clock is ahead of real time."""

    tenant: UUID
    offset: timedelta


_acting: ContextVar[TenantTime | None] = ContextVar("orderline_sandbox_tenant_time", default=None)


def acting() -> TenantTime | None:
    """The sandbox tenant this task acts for; None outside the sandbox, or for a tenant it did not make."""
    return _acting.get()


class TenantClock:
    """The use cases' clock in the sandbox: real time, plus the clock offset of the tenant the task acts for."""

    def __init__(self, real: Clock) -> None:
        self._real = real

    def now(self) -> datetime:
        acting = _acting.get()
        return self._real.now() if acting is None else self._real.now() + acting.offset


class Offsets(Protocol):
    async def offset_of(self, tenant: UUID) -> int | None:
        """The tenant's clock offset in seconds; None if the sandbox did not make it (or it was deleted)."""
        ...


class TenantTimes:
    """Which tenant a task acts for, and so what its clock reads (one read of the sandbox's row)."""

    def __init__(self, store: Offsets) -> None:
        self._store = store

    async def time_of(self, tenant: UUID) -> TenantTime | None:
        offset = await self._store.offset_of(tenant)
        return None if offset is None else TenantTime(tenant, timedelta(seconds=offset))

    @asynccontextmanager
    async def acting_for(self, tenant: UUID) -> AsyncIterator[TenantTime | None]:
        """Act for ``tenant`` for the length of the block (a request, or one row of background work): its clock
        and its faults, read once. For a tenant the sandbox did not make, real time and no faults."""
        token = _acting.set(await self.time_of(tenant))
        try:
            yield _acting.get()
        finally:
            _acting.reset(token)


@asynccontextmanager
async def acting_as(time: TenantTime) -> AsyncIterator[TenantTime]:
    """Act in ``time`` for the length of the block, whatever the task acted for before."""
    token = _acting.set(time)
    try:
        yield time
    finally:
        _acting.reset(token)
