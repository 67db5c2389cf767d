"""Order use cases: place, read, list and cancel orders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.application.errors import InvalidInput, NotFound, PetNotFound
from orderline.application.pagination import Page, decode_cursor, page_of
from orderline.application.ports import Clock, Database, IdGenerator, OrderQuery, UnitOfWork
from orderline.application.principal import Principal, Scope
from orderline.domain.errors import CurrencyMismatch
from orderline.domain.money import Money, check_currency
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus

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


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: UUID
    reason: CancelReason = CancelReason.CUSTOMER_REQUEST
    note: str | None = None


class Orders:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids

    async def place(self, principal: Principal, command: PlaceOrder) -> Order:
        """Snapshot prices, reserve stock for every line, and create a PLACED order, all or nothing."""
        if command.currency is not None:
            check_currency(command.currency)
        async with self._db.transaction() as uow:
            pets = await uow.pets.get_many([line.pet_id for line in command.lines], for_update=True)
            now = self._clock.now()
            lines = [_snapshot(pets, line) for line in command.lines]
            order, _events = Order.place(
                id=self._ids.new_id(),
                seq=await uow.orders.next_seq(),
                customer_id=None,
                lines=lines,
                note=command.note,
                now=now,
            )
            _ensure_currency(order, command.currency)
            if command.expected_total is not None:
                order.ensure_total(Money.parse(command.expected_total, order.currency))
            await _move_stock(uow, pets, order, Pet.reserve, now)
            await uow.orders.add(order)
            await uow.commit()
        return order

    async def get(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Scope.READ_ORDERS)
        async with self._db.snapshot() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound("order", order_id)
        return order

    async def list(
        self,
        principal: Principal,
        *,
        status: OrderStatus | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Order]:
        principal.require(Scope.READ_ORDERS)
        before = decode_cursor(_CURSOR, cursor) if cursor else None
        if before is not None and not isinstance(before, int):
            raise InvalidInput("cursor", "not a cursor this list returned; start again without it")
        query = OrderQuery(status, created_after, created_before, limit, before)
        async with self._db.snapshot() as uow:
            rows = await uow.orders.find(query)
        return page_of(rows, limit, _CURSOR, lambda order: order.seq)

    async def cancel(self, principal: Principal, command: CancelOrder) -> Order:
        """Cancel a PLACED or APPROVED order and release its stock, exactly once however many ask."""
        principal.require(Scope.WRITE_ORDERS)

        def cancel(order: Order, now: datetime) -> object:
            return order.cancel(reason=command.reason, note=command.note, now=now)

        return await self._transition(command.order_id, cancel, Pet.release)

    async def ship(self, principal: Principal, order_id: UUID) -> Order:
        """Dispatch an APPROVED order: its reserved units become sold."""
        principal.require(Scope.ADMIN)
        return await self._transition(order_id, Order.ship, Pet.consume)

    async def deliver(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Scope.ADMIN)
        return await self._transition(order_id, Order.deliver)

    async def _transition(
        self, order_id: UUID, move: Callable[[Order, datetime], object], stock: StockMove | None = None
    ) -> Order:
        """Lock the order, make one status move and its stock move on every line, save: all or nothing."""
        async with self._db.transaction() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound("order", order_id)
            expected = order.version
            now = self._clock.now()
            move(order, now)
            if stock is not None:
                pets = await uow.pets.get_many(list(order.quantities()), for_update=True, include_removed=True)
                await _move_stock(uow, pets, order, stock, now)
            await uow.orders.save(order, expected)
            await uow.commit()
        return order


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
