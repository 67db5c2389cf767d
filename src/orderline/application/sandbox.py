"""Sandbox controls (ADR 0041): tenants made and thrown away, a test clock per tenant, faults injected once.

Only wired when ORDERLINE_SANDBOX is on. A tenant's time is real time plus its clock's offset, which only grows.
The tenant a task acts for, and that offset, live in a context variable, read by ``TenantClock`` (the use cases'
clock) and by the adapters that take injected faults; outside the sandbox nothing sets it and nothing reads the
sandbox's tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from orderline.application.api_keys import ApiKeys
from orderline.application.errors import InvalidInput, NotFound
from orderline.application.ports import Clock, IdGenerator
from orderline.application.principal import ADMIN_SCOPES, Principal, Scope

# One advance moves a clock at most this far (a year): far enough for any expiry, small enough that no sum of
# advances overflows a timestamp in the next few thousand years.
MAX_ADVANCE_SECONDS = 366 * 86400


class Call(StrEnum):
    """The outbound calls a fault can be injected into."""

    CHARGE = "charge"  # the test gateway charging a card
    REFUND = "refund"  # the test gateway asked for a refund
    WEBHOOK = "webhook"  # one attempt at delivering a webhook


class Fault(StrEnum):
    FAIL = "fail"  # the call answers that it failed
    TIMEOUT = "timeout"  # the call gets no answer in time (simulated: nothing waits)
    PENDING = "pending"  # the call is accepted but answered later (charges and refunds only)


# A delivery attempt is answered or not: "pending" has no meaning for it.
FAULTS_OF: dict[Call, frozenset[Fault]] = {
    Call.CHARGE: frozenset(Fault),
    Call.REFUND: frozenset(Fault),
    Call.WEBHOOK: frozenset({Fault.FAIL, Fault.TIMEOUT}),
}


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


class SandboxStore(Protocol):
    """The sandbox's own tables: the tenants it made, each with its clock offset, and the faults waiting."""

    async def add_tenant(self, tenant: UUID, now: datetime) -> None: ...
    async def offset_of(self, tenant: UUID) -> int | None:
        """The tenant's clock offset in seconds; None if the sandbox did not make it (or it was deleted)."""
        ...

    async def advance(self, tenant: UUID, seconds: int) -> int | None:
        """Move the tenant's clock on (one statement); its new offset, or None if there is no such tenant."""
        ...

    async def add_fault(self, tenant: UUID, call: Call, fault: Fault, now: datetime) -> None:
        """The tenant's next ``call`` behaves as ``fault`` (replacing a fault of that call still waiting)."""
        ...

    async def take_fault(self, tenant: UUID, call: Call) -> Fault | None:
        """The fault waiting for the tenant's next ``call``, removed in the same statement: taken once."""
        ...


class Faults(Protocol):
    """What an adapter (the test gateway, the webhook sender) asks before a call: is a fault injected?"""

    async def take(self, tenant: UUID, call: Call) -> Fault | None: ...


@dataclass(frozen=True, slots=True)
class NewTenant:
    tenant: UUID
    api_key: str  # the secret of an admin key bound to the tenant, shown once


@dataclass(frozen=True, slots=True)
class FaultRequest:
    next: str
    outcome: str


class Sandbox:
    """The sandbox's use cases: tenant clocks and faults. A sandbox tenant's admin (a key bound to it) or an
    administrator of the whole service may drive them; for anyone else the tenant does not exist."""

    def __init__(self, store: SandboxStore, clock: Clock, ids: IdGenerator, api_keys: ApiKeys) -> None:
        self._store = store
        self._real = clock  # real time: what the sandbox's own rows are stamped with
        self._ids = ids
        self._api_keys = api_keys

    async def create_tenant(self, principal: Principal) -> NewTenant:
        """A new, empty tenant with its clock at real time, and an admin key for it."""
        tenant = self._ids.new_id()
        await self._store.add_tenant(tenant, self._real.now())
        _key, secret = await self._api_keys.create(f"sandbox tenant {tenant}", ADMIN_SCOPES, principal)
        return NewTenant(tenant, secret)

    async def time_of(self, tenant: UUID) -> TenantTime | None:
        offset = await self._store.offset_of(tenant)
        return None if offset is None else TenantTime(tenant, timedelta(seconds=offset))

    async def enter(self, tenant: UUID) -> TenantTime | None:
        """Act for ``tenant`` from now on in this task: its clock, its faults (one read). For a tenant the
        sandbox did not make (the public pool among them), real time and no faults."""
        time = await self.time_of(tenant)
        _acting.set(time)
        return time

    @asynccontextmanager
    async def acting_for(self, tenant: UUID) -> AsyncIterator[TenantTime | None]:
        """Act for ``tenant`` for the length of the block (background work, one row's tenant at a time)."""
        token = _acting.set(await self.time_of(tenant))
        try:
            yield _acting.get()
        finally:
            _acting.reset(token)

    async def advance_clock(self, principal: Principal, tenant: UUID, seconds: int) -> datetime:
        """Move the tenant's clock ``seconds`` forward; the tenant's new now."""
        principal.require(Scope.ADMIN)
        if not 0 < seconds <= MAX_ADVANCE_SECONDS:
            raise InvalidInput(
                "advanceSeconds", f"must be a whole number of seconds from 1 to {MAX_ADVANCE_SECONDS} (a year)"
            )
        offset = await self._store.advance(tenant, seconds)
        if offset is None:
            raise NotFound("sandbox tenant", tenant)
        time = TenantTime(tenant, timedelta(seconds=offset))
        _acting.set(time)
        return self._real.now() + time.offset

    async def inject_fault(self, principal: Principal, tenant: UUID, request: FaultRequest) -> tuple[Call, Fault]:
        """The tenant's next call of ``request.next`` behaves as ``request.outcome``, once."""
        principal.require(Scope.ADMIN)
        call, fault = _fault_of(request)
        if await self._store.offset_of(tenant) is None:
            raise NotFound("sandbox tenant", tenant)
        await self._store.add_fault(tenant, call, fault, self._real.now())
        return call, fault

    async def take(self, tenant: UUID, call: Call) -> Fault | None:
        """The fault waiting for ``tenant``'s next ``call``, if any, taken (it applies once)."""
        return await self._store.take_fault(tenant, call)


def _fault_of(request: FaultRequest) -> tuple[Call, Fault]:
    try:
        call = Call(request.next)
    except ValueError:
        raise InvalidInput("next", f"must be one of {', '.join(Call)}") from None
    try:
        fault = Fault(request.outcome)
    except ValueError:
        raise InvalidInput("outcome", f"must be one of {', '.join(Fault)}") from None
    if fault not in FAULTS_OF[call]:
        allowed = ", ".join(sorted(FAULTS_OF[call]))
        raise InvalidInput("outcome", f"a {call} fault is one of {allowed}: a delivery is answered or it is not")
    return call, fault
