"""Sandbox controls (ADR 0041): tenants made, seeded and thrown away, a test clock per tenant, faults injected once.

Only wired when ORDERLINE_SANDBOX is on. A tenant's time is real time plus its clock's offset, which only grows
(application/tenant_time.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from uuid import UUID

from orderline.application.api_keys import ApiKeys
from orderline.application.catalogue import Catalogue, PetDraft
from orderline.application.errors import ApplicationError, InvalidInput, NotFound
from orderline.application.orders import CancelOrder, LineRequest, Orders, PlaceOrder
from orderline.application.payments import Payments, PayOrder
from orderline.application.ports import Clock, IdGenerator
from orderline.application.principal import ADMIN_SCOPES, CUSTOMER_SCOPES, SYSTEM, Principal, PrincipalKind, Scope
from orderline.application.refunds import Refunds
from orderline.application.tenant_time import TenantTime, TenantTimes, acting_as
from orderline.application.users import Registration, Users
from orderline.application.vouchers import VoucherDraft, Vouchers
from orderline.domain.errors import DomainError
from orderline.domain.payment import CardInput
from orderline.domain.pet import Pet
from orderline.domain.user import User

T = TypeVar("T")

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

    async def remove_tenant(self, tenant: UUID) -> bool:
        """Every row of the tenant, everywhere, in one transaction (one DELETE per table, children first);
        False if the sandbox had no such tenant."""
        ...


class Faults(Protocol):
    """What an adapter (the test gateway, the webhook sender) asks before a call: is a fault injected? Taken
    once: the same statement removes it."""

    async def take_fault(self, tenant: UUID, call: Call) -> Fault | None: ...


@dataclass(frozen=True, slots=True)
class NewTenant:
    tenant: UUID
    api_key: str  # the secret of an admin key bound to the tenant, shown once
    seeded: Seeded


@dataclass(frozen=True, slots=True)
class Seeded:
    """The ids of what a seed made, in the order the fixture lists them."""

    pets: tuple[UUID, ...] = ()
    users: tuple[UUID, ...] = ()
    orders: tuple[UUID, ...] = ()


class SeedStatus(StrEnum):
    """What a fixture's order is brought to, by the use cases production uses."""

    PLACED = "PLACED"
    APPROVED = "APPROVED"  # paid with the test gateway's 4242 card
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    CANCEL_PENDING = "CANCEL_PENDING"  # paid with 4000000000003220, then cancelled: its refund is asynchronous


@dataclass(frozen=True, slots=True)
class SeedOrder:
    pet: str  # the name of a pet of the same fixture
    quantity: int = 1
    user: str | None = None  # the username of a user of the same fixture, whose order it is; None: the shop's
    voucher_code: str | None = None
    status: SeedStatus = SeedStatus.PLACED


@dataclass(frozen=True, slots=True)
class Fixture:
    """What a new tenant starts with. The wire says where each entry came from (``fixture.pets[2]``)."""

    pets: Sequence[PetDraft] = ()
    vouchers: Sequence[VoucherDraft] = ()
    users: Sequence[Registration] = ()
    orders: Sequence[SeedOrder] = ()


@dataclass(frozen=True, slots=True)
class FaultRequest:
    next: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Seeders:
    """The use cases a seed goes through: a tenant is seeded exactly as its clients would fill it."""

    api_keys: ApiKeys
    catalogue: Catalogue
    vouchers: Vouchers
    users: Users
    orders: Orders
    payments: Payments
    refunds: Refunds


# The cards a seed pays with: charged at once, refunded at once or (for CANCEL_PENDING) after the refund delay.
_PAYS = CardInput("4242424242424242", "123", 12, 2099)
_REFUNDS_LATER = CardInput("4000000000003220", "123", 12, 2099)


class Sandbox:
    """The sandbox's use cases. A tenant's clock, faults and deletion are for its admins (a key bound to it, or an
    administrator of the whole service acting in it); for anyone else the tenant does not exist."""

    def __init__(self, store: SandboxStore, clock: Clock, ids: IdGenerator, seeders: Seeders) -> None:
        self._store = store
        self._real = clock  # real time: what the sandbox's own rows are stamped with
        self._ids = ids
        self._seeders = seeders
        self.times = TenantTimes(store)

    async def create_tenant(self, principal: Principal, fixture: Fixture | None = None) -> NewTenant:
        """A new tenant with its clock at real time, an admin key bound to it, and ``fixture`` in it — all or
        nothing: a fixture refused part-way (an order for a pet out of stock) deletes what it had made."""
        tenant = self._ids.new_id()
        await self._store.add_tenant(tenant, self._real.now())
        try:
            _key, secret = await self._seeders.api_keys.create(
                f"sandbox tenant {tenant}", ADMIN_SCOPES, principal, tenant=tenant
            )
            seeded = Seeded() if fixture is None else await self._seed(tenant, fixture)
        except BaseException:
            await self._store.remove_tenant(tenant)
            raise
        return NewTenant(tenant, secret, seeded)

    async def delete_tenant(self, principal: Principal, tenant: UUID) -> None:
        """Every row of the tenant, in one transaction of one DELETE per table; NotFound the second time."""
        _drives(principal, tenant)
        if not await self._store.remove_tenant(tenant):
            raise NotFound("sandbox tenant", tenant)

    async def advance_clock(self, principal: Principal, tenant: UUID, seconds: int) -> TenantTime:
        """Move the tenant's clock ``seconds`` forward, bring its pending webhook deliveries as much closer, and
        settle the refunds that became due in its new time; its time as it now runs."""
        _drives(principal, tenant)
        if not 0 < seconds <= MAX_ADVANCE_SECONDS:
            raise InvalidInput(
                "advanceSeconds", f"must be a whole number of seconds from 1 to {MAX_ADVANCE_SECONDS} (a year)"
            )
        offset = await self._store.advance(tenant, seconds)
        if offset is None:
            raise NotFound("sandbox tenant", tenant)
        await self._seeders.refunds.settle_pending()  # each in its own tenant's time
        return TenantTime(tenant, timedelta(seconds=offset))

    def now_of(self, time: TenantTime) -> datetime:
        return self._real.now() + time.offset

    async def inject_fault(self, principal: Principal, tenant: UUID, request: FaultRequest) -> tuple[Call, Fault]:
        """The tenant's next call of ``request.next`` behaves as ``request.outcome``, once."""
        _drives(principal, tenant)
        call, fault = _fault_of(request)
        if await self._store.offset_of(tenant) is None:
            raise NotFound("sandbox tenant", tenant)
        await self._store.add_fault(tenant, call, fault, self._real.now())
        return call, fault

    async def take_fault(self, tenant: UUID, call: Call) -> Fault | None:
        """The fault waiting for ``tenant``'s next ``call``, if any, taken (it applies once)."""
        return await self._store.take_fault(tenant, call)

    async def _seed(self, tenant: UUID, fixture: Fixture) -> Seeded:
        staff = _staff_of(tenant)
        # In the new tenant's time and faults, whatever tenant the request that makes it acts for.
        async with acting_as(TenantTime(tenant, timedelta(0))):
            pets = {}
            for index, draft in enumerate(fixture.pets):
                added = self._seeders.catalogue.add_pet(staff, draft)
                pets[draft.profile.name] = await _as_field(f"fixture.pets[{index}]", added)
            for index, voucher in enumerate(fixture.vouchers):
                await _as_field(f"fixture.vouchers[{index}]", self._seeders.vouchers.create(staff, voucher))
            users = {}
            for index, registration in enumerate(fixture.users):
                registered = self._seeders.users.register(staff, registration)
                users[registration.username] = await _as_field(f"fixture.users[{index}]", registered)
            orders = [
                await self._seed_order(f"fixture.orders[{index}]", staff, line, pets, users)
                for index, line in enumerate(fixture.orders)
            ]
        return Seeded(tuple(p.id for p in pets.values()), tuple(u.id for u in users.values()), tuple(orders))

    async def _seed_order(
        self, where: str, staff: Principal, line: SeedOrder, pets: Mapping[str, Pet], users: Mapping[str, User]
    ) -> UUID:
        pet, owner = pets.get(line.pet), users.get(line.user) if line.user else None
        if pet is None:
            raise InvalidInput(f"{where}.pet", f"names no pet of the fixture: {line.pet!r}")
        if line.user is not None and owner is None:
            raise InvalidInput(f"{where}.user", f"names no user of the fixture: {line.user!r}")
        buyer = staff if owner is None else _customer_of(owner.id, staff.tenant)
        return await _as_field(where, self._order(staff, buyer, pet.id, line))

    async def _order(self, staff: Principal, buyer: Principal, pet_id: UUID, line: SeedOrder) -> UUID:
        """Place the order and bring it to ``line.status`` by the use cases, as tests/support.py in_status does."""
        command = PlaceOrder([LineRequest(pet_id, line.quantity)], voucher_code=line.voucher_code)
        order = (await self._seeders.orders.place(buyer, command)).order
        if line.status is SeedStatus.CANCELLED:
            await self._seeders.orders.cancel(staff, CancelOrder(order.id))
        if line.status in {SeedStatus.PLACED, SeedStatus.CANCELLED}:
            return order.id
        card = _REFUNDS_LATER if line.status is SeedStatus.CANCEL_PENDING else _PAYS
        await self._seeders.payments.pay(staff, PayOrder(order.id, str(order.total), order.currency, card))
        if line.status is SeedStatus.CANCEL_PENDING:
            await self._seeders.orders.cancel(staff, CancelOrder(order.id))
        elif line.status in {SeedStatus.SHIPPED, SeedStatus.DELIVERED}:
            await self._seeders.orders.ship(staff, order.id)
            if line.status is SeedStatus.DELIVERED:
                await self._seeders.orders.deliver(staff, order.id)
        return order.id


def _drives(principal: Principal, tenant: UUID) -> None:
    """A tenant's admin (its bound key, or an operator's key acting in it with X-Tenant-ID) drives it; for anyone
    acting elsewhere it does not exist."""
    principal.require(Scope.ADMIN)
    if principal.tenant != tenant:
        raise NotFound("sandbox tenant", tenant)


def _staff_of(tenant: UUID) -> Principal:
    """The service itself, acting in ``tenant``: what a seed is made by."""
    return replace(SYSTEM, tenant=tenant)


def _customer_of(user_id: UUID, tenant: UUID) -> Principal:
    return Principal(PrincipalKind.USER, user_id, CUSTOMER_SCOPES, tenant)


async def _as_field(field: str, step: Awaitable[T]) -> T:
    """A refused step of a seed as a validation error naming the fixture entry that asked for it."""
    try:
        return await step
    except InvalidInput as exc:
        raise InvalidInput(f"{field}.{exc.field}", str(exc)) from None
    except (DomainError, ApplicationError) as exc:
        raise InvalidInput(field, str(exc)) from None


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
