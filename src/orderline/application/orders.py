"""Order use cases: place, read, list and search, cancel (one or many, and force-cancel), erase, ship, deliver."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.bulk_cancel import (
    MAX_BULK_CANCEL,
    BulkCancel,
    BulkCancelResult,
    BulkOutcome,
    check_bulk,
    outcome_of,
)
from orderline.application.credentials import ORDER_TOKEN_PREFIX, hash_secret, new_secret
from orderline.application.errors import Forbidden, NotFound, PetNotFound
from orderline.application.idempotency import KeyClaim
from orderline.application.lookups import one_statement
from orderline.application.order_search import seq_batches, visible_search
from orderline.application.ownership import can_see, locked_order, owner_of, visible_to
from orderline.application.pagination import MAX_SEQ, Page, check_offset_page, decode_seq_cursor, page_of
from orderline.application.ports import Clock, Database, IdGenerator, RefundDue, UnitOfWork
from orderline.application.principal import Principal, PrincipalKind, Scope
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.application.refunds import Refunds
from orderline.application.stock import StockMove, give_back, lock_and_move_stock, move_refused, shift_stock
from orderline.application.use_case import UseCase
from orderline.domain.address import Address
from orderline.domain.errors import CurrencyMismatch, VoucherNotApplicable
from orderline.domain.money import Money, check_currency
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.payment import OrderPaymentStatus, Refund, payment_summary, refundable
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from orderline.domain.voucher import Voucher, check_code

__all__ = [  # the bulk-cancel records are at home in bulk_cancel and offered here beside the use case
    "MAX_BULK_CANCEL",
    "BulkCancel",
    "BulkCancelResult",
    "BulkOutcome",
    "CancelOrder",
    "LineRequest",
    "OrderFilter",
    "Orders",
    "PlaceOrder",
    "PlacedOrder",
]

_CURSOR = "orders"


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
    expected_version: int | None = None  # refuse unless the order is at this version


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    customer_id: UUID | None = None  # admin lists only
    payment_status: OrderPaymentStatus | None = None


class Orders(UseCase):
    def __init__(
        self, db: Database, clock: Clock, ids: IdGenerator, refunds: Refunds, *, customer_erasure: bool = False
    ) -> None:
        super().__init__(db, clock, ids)
        self._refunds = refunds
        self._customer_erasure = customer_erasure

    async def place(
        self, principal: Principal, command: PlaceOrder, *, claim: KeyClaim[PlacedOrder] | None = None
    ) -> PlacedOrder:
        """Snapshot prices, reserve stock for every line, and create a PLACED order, all or nothing."""
        if command.currency is not None:
            check_currency(command.currency)
        async with self._db.transaction(principal.tenant) as uow:
            now = self._clock.now()
            # Reserved first (pets before the voucher: the lock order), one conditional UPDATE per pet that also
            # reads it; the order is priced from it. A refused reservation is raised after the order's own rules.
            requested = _requested(command)
            pets, refused = await shift_stock(uow, requested, Pet.reserve, now, include_removed=False)
            voucher = await _voucher(uow, command.voucher_code)
            order, _events = Order.place(
                id=self._ids.new_id(),
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
            await move_refused(uow, pets, refused, requested, Pet.reserve, now)
            if voucher is not None:
                await uow.vouchers.save(voucher)
            address_id = None if command.billing_address is None else self._ids.new_id()
            await uow.orders.add(order, address_id)
            token = None
            if order.customer_id is None and order.placed_by_key is None:
                token = new_secret(ORDER_TOKEN_PREFIX)
                await uow.order_tokens.add(order.id, hash_secret(token))
            created = changes({}, {"status": str(order.status), "total": str(order.total), "currency": order.currency})
            await self._record(uow, principal, Record(Action.ORDER_CREATED, EntityType.ORDER, order.id, created))
            placed = PlacedOrder(order, token)
            if claim is not None:
                await claim.complete(uow, placed)
            await uow.commit()
        return placed

    async def get(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Scope.READ_ORDERS)
        async with one_statement(self._db, principal.tenant) as uow:  # the order, its lines and address: one statement
            order = await uow.orders.get(order_id)
        if order is None or not can_see(principal, order):
            raise NotFound("order", order_id)
        return order

    async def list(
        self, principal: Principal, where: OrderFilter, *, limit: int, cursor: str | None = None
    ) -> Page[Order]:
        """The caller's own orders, newest first."""
        principal.require(Scope.READ_ORDERS)
        return await self._find(principal.tenant, owner_of(principal), where, limit, cursor)

    async def list_all(
        self, principal: Principal, where: OrderFilter, *, limit: int, cursor: str | None = None
    ) -> Page[Order]:
        """Every customer's orders (staff: admin or support), newest first."""
        principal.require(Scope.SUPPORT)
        return await self._find(principal.tenant, Owner(customer_id=where.customer_id), where, limit, cursor)

    async def _find(
        self, tenant: UUID, owner: Owner, where: OrderFilter, limit: int, cursor: str | None
    ) -> Page[Order]:
        before = decode_seq_cursor(_CURSOR, cursor) if cursor else None
        query = OrderQuery(where.status, where.created_after, where.created_before, limit, before, owner,
                           payment_status=where.payment_status)  # fmt: skip
        async with one_statement(self._db, tenant) as uow:  # a page of orders with their lines: one statement
            rows = await uow.orders.find(query)
        return page_of(rows, limit, _CURSOR, lambda order: order.seq)

    async def get_by_seq(self, principal: Principal, seq: int) -> Order:
        """The order numbered ``seq`` (the dialects' integer id); NotFound unless ``get`` would show it."""
        return await self._by_integer(principal, seq, lambda uow: uow.orders.get_by_seq(seq))

    async def get_by_number(self, principal: Principal, counted: int) -> Order:
        """The order numbered NUMBER_OFFSET + ``counted`` in the principal's tenant; NotFound as ``get_by_seq``."""
        return await self._by_integer(principal, counted, lambda uow: uow.orders.get_by_number(counted))

    async def _by_integer(
        self, principal: Principal, key: int, find: Callable[[UnitOfWork], Awaitable[Order | None]]
    ) -> Order:
        """The order ``find`` reads by an integer ``key`` of the dialects; NotFound unless ``get`` would show it."""
        principal.require(Scope.READ_ORDERS)
        if not 1 <= key <= MAX_SEQ:  # no order has it, and the column could not even hold it
            raise NotFound("order", key)
        async with self._db.snapshot(principal.tenant) as uow:
            order = await find(uow)
        if order is None or not can_see(principal, order):
            raise NotFound("order", key)
        return order

    async def ids_by_seq(self, principal: Principal, seqs: Sequence[int]) -> dict[int, UUID]:
        """The ids of those orders numbered ``seqs`` that ``principal`` may see; the others are left out."""
        principal.require(Scope.READ_ORDERS)
        found: dict[int, UUID] = {}
        async with self._db.snapshot(principal.tenant) as uow:
            for batch in seq_batches(seqs):
                found |= await uow.orders.ids_by_seq(batch, visible_to(principal))
        return found

    async def search(
        self, principal: Principal, where: OrderSearch, *, offset: int, limit: int
    ) -> builtins.list[Order]:
        """The orders ``principal`` may see that match ``where``, newest first, as an offset page (ADR 0023):
        ``limit`` 1 to 250 and ``offset`` 0 to 10,000, else InvalidInput."""
        principal.require(Scope.READ_ORDERS)
        check_offset_page(offset, limit)
        visible = visible_search(principal, where)
        if visible is None:
            return []
        async with self._db.snapshot(principal.tenant) as uow:
            return await uow.orders.search(visible, offset=offset, limit=limit)

    async def count(self, principal: Principal, where: OrderSearch) -> int:
        """How many orders ``search`` pages through for the same ``where``."""
        principal.require(Scope.READ_ORDERS)
        visible = visible_search(principal, where)
        if visible is None:
            return 0
        async with self._db.snapshot(principal.tenant) as uow:
            return await uow.orders.count(visible)

    async def bulk_cancel(
        self, principal: Principal, command: BulkCancel, *, force: bool = False
    ) -> builtins.list[BulkCancelResult]:
        """Cancel each order as ``cancel`` does, each in its own transaction, answering in the order given.

        A refusal is that order's outcome and the rest go on (someone else's order is NOT_FOUND). A database
        failure ends the request; the cancels before it have committed, and a repeat finds them done.
        """
        principal.require(Scope.SUPPORT if force else Scope.WRITE_ORDERS)
        check_bulk(command.order_ids)
        results = []
        for order_id in command.order_ids:
            cancel = CancelOrder(order_id, command.reason, command.note)
            results.append(await outcome_of(order_id, self.cancel(principal, cancel, force=force)))
        return results

    async def cancel(
        self, principal: Principal, command: CancelOrder, *, force: bool = False, claim: KeyClaim[Order] | None = None
    ) -> Order:
        """Cancel, exactly once however many ask; ``force`` (admin) also cancels SHIPPED orders.

        An unpaid order is CANCELLED at once, its stock released and its voucher freed. A paid one
        is refunded through the gateway: CANCELLED when the refund completes at once, else left
        CANCEL_PENDING until the refund settles (see Refunds). Cancelling a CANCEL_PENDING order
        starts nothing new and answers the order as it is.
        """
        principal.require(Scope.SUPPORT if force else Scope.WRITE_ORDERS)
        order, due = await self._request_cancel(principal, command, force, claim)
        if due is None:
            return order
        settled = await self._refunds.carry_out(principal, due, claim)
        if settled is None:  # erased while the gateway was asked
            raise NotFound("order", command.order_id)
        return settled

    async def _request_cancel(
        self, principal: Principal, command: CancelOrder, force: bool, claim: KeyClaim[Order] | None
    ) -> tuple[Order, RefundDue | None]:
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, command.order_id, command.expected_version)
            if order.status is OrderStatus.CANCEL_PENDING:
                return order, None
            payments, refunds = await uow.payments.of_order(order.id), await uow.payments.refunds_of(order.id)
            paid = refundable(payments, refunds)
            before = order.status
            now = self._clock.now()
            order.cancel(
                reason=command.reason, note=command.note, now=now, force=force, refund_pending=paid is not None
            )
            due = None
            if paid is not None:
                assert paid.reference is not None, "a captured payment has the gateway's reference"
                refund = Refund.request(id=self._ids.new_id(), payment=paid, refunds=refunds, now=now)
                await uow.payments.add_refund(refund)
                order.track_payment(payment_summary(payments, [*refunds, refund], order.currency), now)
                due = RefundDue(refund, paid.reference, uow.tenant)
                action = Action.ORDER_CANCEL_REQUESTED
            else:
                await give_back(uow, order, now)
                action = Action.ORDER_FORCE_CANCELLED if force else Action.ORDER_CANCELLED
            await uow.orders.save(order)
            changed = {"status": {"before": str(before), "after": str(order.status)}}
            await self._record(uow, principal, Record(action, EntityType.ORDER, order.id, changed, command.reason))
            if claim is not None:
                await claim.complete(uow, order)
            await uow.commit()
        return order, due

    async def erase(self, principal: Principal, order_id: UUID, *, owner_may_erase: bool = False) -> None:
        """Hard-delete an order, in any status (the shop's staff; its customer too where customer erasure is
        allowed, or where the API asked through promises its owners that, as the DRF shop's does:
        ``owner_may_erase``, ADR 0026).

        Still-reserved stock is released and the voucher use given back (unless a cancel already did);
        lines go with it, the billing address row stays, payments keep their money facts but lose the
        card holder's name and address, and the audit log keeps a tombstone with no personal data. A
        repeat finds nothing.
        """
        principal.require(Scope.WRITE_ORDERS)
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, order_id)
            if principal.is_support or not (principal.acts_for_shop or self._customer_erasure or owner_may_erase):
                raise Forbidden(str(Scope.ADMIN))
            now = self._clock.now()
            if order.status is not OrderStatus.CANCELLED:
                await give_back(uow, order, now)
            await uow.payments.forget_holders(order.id)
            await uow.orders.remove(order.id)
            tombstone = {"status": {"before": str(order.status), "after": None}}
            await self._record(uow, principal, Record(Action.ORDER_ERASED, EntityType.ORDER, order.id, tombstone))
            await uow.commit()

    async def ship(self, principal: Principal, order_id: UUID, *, expected_version: int | None = None) -> Order:
        """Dispatch an APPROVED order: its reserved units become sold."""
        principal.require(Scope.SUPPORT)
        return await self._transition(
            principal, order_id, Order.ship, Action.ORDER_SHIPPED, Pet.consume, expected_version
        )

    async def deliver(self, principal: Principal, order_id: UUID, *, expected_version: int | None = None) -> Order:
        principal.require(Scope.SUPPORT)
        return await self._transition(
            principal, order_id, Order.deliver, Action.ORDER_DELIVERED, None, expected_version
        )

    async def _transition(
        self,
        principal: Principal,
        order_id: UUID,
        move: Callable[[Order, datetime], object],
        action: Action,
        stock: StockMove | None,
        expected_version: int | None,
    ) -> Order:
        """Lock the order, make one status move and its stock move on every line, record, save: all or nothing."""
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, order_id, expected_version)
            before = order.status
            now = self._clock.now()
            move(order, now)
            if stock is not None:
                await lock_and_move_stock(uow, order, stock, now)
            await uow.orders.save(order)
            changed = {"status": {"before": str(before), "after": str(order.status)}}
            await self._record(uow, principal, Record(action, EntityType.ORDER, order.id, changed))
            await uow.commit()
        return order


async def _voucher(uow: UnitOfWork, code: str | None) -> Voucher | None:
    if code is None:
        return None
    voucher = await uow.vouchers.get_by_code(check_code(code), for_update=True)
    if voucher is None:
        raise VoucherNotApplicable(f"there is no voucher {code.upper()}", reason="unknown")
    return voucher


def _requested(command: PlaceOrder) -> dict[UUID, int]:
    """Units per pet; a pet named twice is refused by Order.place, so the first line's quantity stands."""
    requested: dict[UUID, int] = {}
    for line in command.lines:
        requested.setdefault(line.pet_id, line.quantity)
    return requested


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
