"""Order use cases: place, read, list, cancel (and force-cancel), ship and deliver."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.credentials import ORDER_TOKEN_PREFIX, hash_secret, new_secret
from orderline.application.errors import Forbidden, NotFound, PetNotFound, PreconditionFailed
from orderline.application.ownership import can_see, owner_of
from orderline.application.pagination import Page, decode_seq_cursor, page_of
from orderline.application.ports import Clock, Database, IdGenerator, OrderQuery, Owner, UnitOfWork
from orderline.application.principal import Principal, PrincipalKind, Scope
from orderline.application.use_case import UseCase
from orderline.domain.address import Address
from orderline.domain.errors import CurrencyMismatch, VoucherNotApplicable
from orderline.domain.money import Money, check_currency
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.pet import Pet
from orderline.domain.status import HOLDS_RESERVATION, OrderStatus
from orderline.domain.voucher import Voucher, check_code

_CURSOR = "orders"

StockMove = Callable[[Pet, int, datetime], None]  # Pet.reserve, Pet.release or Pet.consume


@dataclass(frozen=True, slots=True)
class LineRequest:
    pet_id: UUID
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    lines: Sequence[LineRequest]
    currency: str | None = None
    note: str | None = None
    expected_total: str | None = None  # a client-sent total, refused if it disagrees
    voucher_code: str | None = None
    billing_address: Address | None = None


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    order_token: str | None  # for an anonymous order: its bearer token, shown this once


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: UUID
    reason: CancelReason = CancelReason.CUSTOMER_REQUEST
    note: str | None = None
    if_version: int | None = None  # from If-Match: refuse (412) unless the order is at this version


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    customer_id: UUID | None = None  # admin lists only


class Orders(UseCase):
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator, *, customer_erasure: bool = False) -> None:
        super().__init__(db, clock, ids)
        self._customer_erasure = customer_erasure

    async def place(self, principal: Principal, command: PlaceOrder) -> PlacedOrder:
        """Snapshot prices, reserve stock for every line, and create a PLACED order, all or nothing."""
        if command.currency is not None:
            check_currency(command.currency)
        async with self._db.transaction() as uow:
            pets = await uow.pets.get_many([line.pet_id for line in command.lines], for_update=True)
            voucher = await _voucher(uow, command.voucher_code)
            voucher_version = None if voucher is None else voucher.version
            now = self._clock.now()
            order, _events = Order.place(
                id=self._ids.new_id(),
                seq=await uow.orders.next_seq(),
                customer_id=principal.id if principal.kind is PrincipalKind.USER else None,
                placed_by_key=principal.id if principal.kind is PrincipalKind.API_KEY else None,
                lines=[_snapshot(pets, line) for line in command.lines],
                note=command.note,
                now=now,
                voucher=voucher,
                billing_address=command.billing_address,
            )
            _ensure_currency(order, command.currency)
            if command.expected_total is not None:
                order.ensure_total(Money.parse(command.expected_total, order.currency))
            await _move_stock(uow, pets, order, Pet.reserve, now)
            if voucher is not None and voucher_version is not None:
                await uow.vouchers.save(voucher, voucher_version)
            address_id = None if command.billing_address is None else self._ids.new_id()
            await uow.orders.add(order, address_id)
            token = None
            if order.customer_id is None and order.placed_by_key is None:
                token = new_secret(ORDER_TOKEN_PREFIX)
                await uow.order_tokens.add(order.id, hash_secret(token))
            created = changes({}, {"status": str(order.status), "total": str(order.total), "currency": order.currency})
            await self._record(uow, principal, Record(Action.ORDER_CREATED, EntityType.ORDER, order.id, created))
            await uow.commit()
        return PlacedOrder(order, token)

    async def get(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Scope.READ_ORDERS)
        async with self._db.snapshot() as uow:
            order = await uow.orders.get(order_id)
        if order is None or not can_see(principal, order):
            raise NotFound("order", order_id)
        return order

    async def list(
        self, principal: Principal, where: OrderFilter, *, limit: int, cursor: str | None = None
    ) -> Page[Order]:
        """The caller's own orders, newest first."""
        principal.require(Scope.READ_ORDERS)
        return await self._find(owner_of(principal), where, limit, cursor)

    async def list_all(
        self, principal: Principal, where: OrderFilter, *, limit: int, cursor: str | None = None
    ) -> Page[Order]:
        """Every customer's orders (admin), newest first."""
        principal.require(Scope.ADMIN)
        return await self._find(Owner(customer_id=where.customer_id), where, limit, cursor)

    async def _find(self, owner: Owner, where: OrderFilter, limit: int, cursor: str | None) -> Page[Order]:
        before = decode_seq_cursor(_CURSOR, cursor) if cursor else None
        query = OrderQuery(where.status, where.created_after, where.created_before, limit, before, owner)
        async with self._db.snapshot() as uow:
            rows = await uow.orders.find(query)
        return page_of(rows, limit, _CURSOR, lambda order: order.seq)

    async def cancel(self, principal: Principal, command: CancelOrder, *, force: bool = False) -> Order:
        """Cancel and release the stock, exactly once however many ask. ``force`` (admin) also cancels SHIPPED."""
        principal.require(Scope.ADMIN if force else Scope.WRITE_ORDERS)
        action = Action.ORDER_FORCE_CANCELLED if force else Action.ORDER_CANCELLED

        def cancel(order: Order, now: datetime) -> object:
            return order.cancel(reason=command.reason, note=command.note, now=now, force=force)

        def release(before: OrderStatus) -> StockMove | None:
            return Pet.release if before in HOLDS_RESERVATION else None

        return await self._transition(
            principal,
            command.order_id,
            cancel,
            action,
            release,
            reason=command.reason,
            if_version=command.if_version,
            frees_voucher=True,
        )

    async def erase(self, principal: Principal, order_id: UUID) -> None:
        """Hard-delete an order (admin; its customer too where customer erasure is allowed).

        Still-reserved stock is released and the voucher use given back (unless a cancel already did);
        lines go with it, the billing address row stays, and the audit log keeps a tombstone with no
        personal data. A repeat finds nothing.
        """
        principal.require(Scope.WRITE_ORDERS)
        async with self._db.transaction() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or not can_see(principal, order):
                raise NotFound("order", order_id)
            if not principal.is_admin and not self._customer_erasure:
                raise Forbidden(str(Scope.ADMIN))
            now = self._clock.now()
            if order.status in HOLDS_RESERVATION:
                pets = await uow.pets.get_many(list(order.quantities()), for_update=True, include_removed=True)
                await _move_stock(uow, pets, order, Pet.release, now)
            if order.voucher_id is not None and order.status is not OrderStatus.CANCELLED:
                await _free_voucher(uow, order.voucher_id)
            await uow.orders.remove(order.id)
            tombstone = {"status": {"before": str(order.status), "after": None}}
            await self._record(uow, principal, Record(Action.ORDER_ERASED, EntityType.ORDER, order.id, tombstone))
            await uow.commit()

    async def ship(self, principal: Principal, order_id: UUID, *, if_version: int | None = None) -> Order:
        """Dispatch an APPROVED order: its reserved units become sold."""
        principal.require(Scope.ADMIN)
        return await self._transition(
            principal, order_id, Order.ship, Action.ORDER_SHIPPED, lambda _: Pet.consume, if_version=if_version
        )

    async def deliver(self, principal: Principal, order_id: UUID, *, if_version: int | None = None) -> Order:
        principal.require(Scope.ADMIN)
        return await self._transition(principal, order_id, Order.deliver, Action.ORDER_DELIVERED, if_version=if_version)

    async def _transition(
        self,
        principal: Principal,
        order_id: UUID,
        move: Callable[[Order, datetime], object],
        action: Action,
        stock: Callable[[OrderStatus], StockMove | None] = lambda _: None,
        *,
        reason: str | None = None,
        if_version: int | None = None,
        frees_voucher: bool = False,
    ) -> Order:
        """Lock the order, make one status move and its stock move on every line, record, save: all or nothing.

        ``stock`` picks the stock move from the status the order had before the move; ``if_version``
        (If-Match) refuses the move when the order has changed since the client read it.
        """
        async with self._db.transaction() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None or not can_see(principal, order):
                raise NotFound("order", order_id)
            if if_version is not None and if_version != order.version:
                raise PreconditionFailed("order", order.version)
            expected, before = order.version, order.status
            now = self._clock.now()
            move(order, now)
            if (stock_move := stock(before)) is not None:
                pets = await uow.pets.get_many(list(order.quantities()), for_update=True, include_removed=True)
                await _move_stock(uow, pets, order, stock_move, now)
            if frees_voucher and order.voucher_id is not None:
                await _free_voucher(uow, order.voucher_id)
            await uow.orders.save(order, expected)
            changed = {"status": {"before": str(before), "after": str(order.status)}}
            await self._record(uow, principal, Record(action, EntityType.ORDER, order.id, changed, reason))
            await uow.commit()
        return order


async def _voucher(uow: UnitOfWork, code: str | None) -> Voucher | None:
    if code is None:
        return None
    voucher = await uow.vouchers.get_by_code(check_code(code), for_update=True)
    if voucher is None:
        raise VoucherNotApplicable(f"there is no voucher {code.upper()}", reason="unknown")
    return voucher


async def _free_voucher(uow: UnitOfWork, voucher_id: UUID) -> None:
    """Give the order's voucher use back: once, because the order leaves an open status once."""
    voucher = await uow.vouchers.get(voucher_id, for_update=True)
    if voucher is not None:
        expected = voucher.version
        voucher.free()
        await uow.vouchers.save(voucher, expected)


def _snapshot(pets: dict[UUID, Pet], line: LineRequest) -> OrderLine:
    pet = pets.get(line.pet_id)
    if pet is None:
        raise PetNotFound(line.pet_id)
    return OrderLine(pet.id, pet.profile.name, pet.profile.adoption_fee, line.quantity)


def _ensure_currency(order: Order, requested: str | None) -> None:
    if requested is not None and requested != order.currency:
        raise CurrencyMismatch(
            f"the pets are priced in {order.currency}, not {requested}",
            currencies=[order.currency, requested],
        )


async def _move_stock(
    uow: UnitOfWork,
    pets: dict[UUID, Pet],
    order: Order,
    move: StockMove,
    now: datetime,
) -> None:
    """Apply one stock move (reserve, release, consume) for every line of ``order`` and save the pets."""
    for pet_id, quantity in sorted(order.quantities().items()):
        pet = pets[pet_id]
        expected = pet.version
        move(pet, quantity, now)
        await uow.pets.save(pet, expected)
