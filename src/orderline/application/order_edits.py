"""Editing an open order: units taken off its lines (refunded when paid), and its billing address (ADR 0022)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record
from orderline.application.errors import InvalidInput, NotFound, PreconditionFailed, StaleVersion
from orderline.application.idempotency import KeyClaim
from orderline.application.orders import CancelOrder, Orders
from orderline.application.ownership import locked_order
from orderline.application.ports import Clock, Database, IdGenerator, RefundDue, UnitOfWork
from orderline.application.principal import Principal, Scope
from orderline.application.refunds import Refunds
from orderline.application.use_case import UseCase
from orderline.domain.address import Address
from orderline.domain.money import Money
from orderline.domain.order import CancelReason, LineRemoval, Order
from orderline.domain.payment import Refund, left_to_refund, net_paid, payment_summary, refundable
from orderline.domain.status import OrderStatus

# Taking the last units is a cancel, made at the version the removal saw; if the order changes in between,
# the removal is judged again from the start, a few times at most.
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class RemoveLine:
    order_id: UUID
    line_id: int
    quantity: int | None = None  # units to take off; None: the whole line
    reason: CancelReason = CancelReason.CUSTOMER_REQUEST
    note: str | None = None
    expected_version: int | None = None  # refuse unless the order is at this version
    unpaid_only: bool = False  # refuse unless PLACED, as the DRF shop's API promises (ADR 0026)


@dataclass(frozen=True, slots=True)
class _Removed:
    """A removal's first transaction: the order edited (and refunds to ask for), or the version to cancel at."""

    order: Order | None = None
    dues: list[RefundDue] = field(default_factory=list)
    cancel_at: int | None = None


class OrderEdits(UseCase):
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator, orders: Orders, refunds: Refunds) -> None:
        super().__init__(db, clock, ids)
        self._orders = orders
        self._refunds = refunds

    async def remove_line(
        self, principal: Principal, command: RemoveLine, claim: KeyClaim[Order] | None = None
    ) -> Order:
        """Take units off a PLACED or APPROVED order's line, exactly once however many ask.

        Their stock is released and the order priced again (see Order.remove_units); a paid order gets the
        difference back through the refund saga, as a partial refund. Taking every unit left is a cancel,
        made by Orders.cancel: the lines stay on the cancelled order as its history.
        """
        principal.require(Scope.WRITE_ORDERS)
        for _ in range(_ATTEMPTS):
            removed = await self._remove(principal, command, claim)
            if removed.order is not None:
                return await self._refund(principal, removed.order, removed.dues, claim)
            cancel = CancelOrder(command.order_id, command.reason, command.note, removed.cancel_at)
            try:
                return await self._orders.cancel(principal, cancel, claim=claim)
            except PreconditionFailed:
                if command.expected_version is not None:
                    raise  # the caller's version is gone: theirs to read again
        raise StaleVersion(f"order {command.order_id} kept changing; try again", id=str(command.order_id))

    async def _remove(self, principal: Principal, command: RemoveLine, claim: KeyClaim[Order] | None) -> _Removed:
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, command.order_id, command.expected_version)
            order.ensure_lines_editable(unpaid_only=command.unpaid_only)
            line = order.line(command.line_id)
            if line is None:
                raise NotFound("item", command.line_id)
            quantity = line.quantity if command.quantity is None else command.quantity
            if not 1 <= quantity <= line.quantity:
                message = f"quantity is 1 to {line.quantity}, the units item {line.id} has"
                raise InvalidInput("quantity", message, "out-of-range")
            if quantity == order.units:
                return _Removed(cancel_at=order.version)
            now = self._clock.now()
            # Locks in the order every use case takes them: the order, its pets, then its voucher.
            pets = await uow.pets.get_many([line.pet_id], for_update=True, include_removed=True)
            pets[line.pet_id].release(quantity, now)
            voucher = None if order.voucher_id is None else await uow.vouchers.get(order.voucher_id, for_update=True)
            removal = order.remove_units(line.id, quantity, voucher, now)
            await uow.pets.save(pets[line.pet_id])
            if voucher is not None and removal.released_voucher is not None:
                await uow.vouchers.save(voucher)
            dues = await self._ask_refunds(uow, order, now)
            await uow.orders.save(order)
            await self._record(uow, principal, _removal_record(order, removal, command))
            if claim is not None:
                await claim.complete(uow, order)
            await uow.commit()
        return _Removed(order, dues)

    async def _ask_refunds(self, uow: UnitOfWork, order: Order, now: datetime) -> list[RefundDue]:
        """Record, PENDING, the refunds that bring what a paid order's customer has paid down to its new total."""
        if order.status is not OrderStatus.APPROVED:
            return []
        payments, refunds = await uow.payments.of_order(order.id), await uow.payments.refunds_of(order.id)
        owed = net_paid(payments, refunds, order.currency).amount_minor - order.total.amount_minor
        dues = []
        while owed > 0 and (paid := refundable(payments, refunds)) is not None:
            amount = Money(min(owed, left_to_refund(paid, refunds).amount_minor), order.currency)
            refund = Refund.request(
                id=self._ids.new_id(), payment=paid, refunds=refunds, now=now, amount=amount, partial=True
            )
            await uow.payments.add_refund(refund)
            refunds.append(refund)
            owed -= amount.amount_minor
            assert paid.reference is not None, "a captured payment has the gateway's reference"
            dues.append(RefundDue(refund, paid.reference, uow.tenant))
        order.track_payment(payment_summary(payments, refunds, order.currency), now)
        return dues

    async def _refund(
        self, principal: Principal, order: Order, dues: list[RefundDue], claim: KeyClaim[Order] | None
    ) -> Order:
        """Ask the gateway for each refund recorded; the order as the last answer leaves it."""
        for due in dues:
            settled = await self._refunds.carry_out(principal, due, claim)
            if settled is None:  # erased while the gateway was asked
                raise NotFound("order", order.id)
            order = settled
        return order

    async def change_billing_address(
        self, principal: Principal, order_id: UUID, address: Address, expected_version: int | None = None
    ) -> Order:
        """A new billing address for a PLACED order, as a new address row (the old one stays, as erasure keeps
        address rows)."""
        principal.require(Scope.WRITE_ORDERS)
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, order_id, expected_version)
            before = order.version
            now = self._clock.now()
            order.change_billing_address(address, now)
            await uow.orders.save(order)
            await uow.orders.link_billing_address(order.id, address, self._ids.new_id(), now)
            # The address itself is personal data: the audit log records that it changed, not what it says.
            changed = {"version": {"before": before, "after": order.version}}
            await self._record(uow, principal, Record(Action.ORDER_BILLING_ADDRESS_CHANGED, EntityType.ORDER,
                                                      order.id, changed))  # fmt: skip
            await uow.commit()
        return order


def _removal_record(order: Order, removal: LineRemoval, command: RemoveLine) -> Record:
    changed: dict[str, dict[str, object]] = {
        "itemId": {"before": removal.line.id, "after": removal.line.id},
        "quantity": {"before": removal.line.quantity, "after": removal.quantity_after},
        "subtotal": {"before": str(removal.subtotal_before), "after": str(order.subtotal)},
        "total": {"before": str(removal.total_before), "after": str(order.total)},
    }
    if removal.released_voucher is not None:
        changed["voucherCode"] = {"before": removal.released_voucher, "after": None}
    return Record(Action.ORDER_LINE_REMOVED, EntityType.ORDER, order.id, changed, command.reason)
