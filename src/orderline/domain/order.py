"""The order aggregate: lines with price snapshots, totals, and status moves that return events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from orderline.domain.address import Address
from orderline.domain.errors import (
    CurrencyMismatch,
    IllegalTransition,
    InvalidOrder,
    OrderNotCancellable,
    OrderNotEditable,
    OrderNotPayable,
    PaymentMismatch,
    TotalMismatch,
)
from orderline.domain.events import Event, OrderCancelled, OrderPlaced, OrderStatusChanged
from orderline.domain.money import Money, total
from orderline.domain.payment import OrderPaymentStatus, PaymentSummary
from orderline.domain.status import (
    CANCELLABLE,
    FORCE_CANCELLABLE,
    HOLDS_RESERVATION,
    LINES_EDITABLE,
    OrderStatus,
    ensure_transition,
)
from orderline.domain.voucher import Voucher

MAX_LINES = 50
MAX_QUANTITY = 100
NUMBER_OFFSET = 1000  # order numbers start at 1001, as shops usually show them


class CancelReason(StrEnum):
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"
    DUPLICATE = "DUPLICATE"
    FRAUD = "FRAUD"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class OrderLine:
    pet_id: UUID
    name: str
    unit_price: Money
    quantity: int
    id: int = 0  # 1, 2, 3 … within its order, given at placement and never reused (0: not yet placed)

    @property
    def amount(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class LineRemoval:
    """What taking units off a line changed: for the audit entry, the stock to release and the refund."""

    line: OrderLine  # as it was
    removed: int
    subtotal_before: Money
    total_before: Money
    released_voucher: str | None  # the code of the voucher whose minimum no longer held

    @property
    def quantity_after(self) -> int:
        return self.line.quantity - self.removed


UNNUMBERED = 0  # the seq of an order not stored yet: storing it numbers it (stored orders count from 1)


@dataclass(slots=True)
class Order:
    id: UUID
    seq: int
    customer_id: UUID | None
    lines: tuple[OrderLine, ...]
    currency: str
    subtotal: Money
    discount_total: Money
    total: Money
    note: str | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    payment_summary: PaymentSummary  # derived from the payment facts: status, captured and refunded
    cancel_reason: CancelReason | None = None
    cancel_note: str | None = None
    cancelled_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    placed_by_key: UUID | None = None  # the API key that placed it, for a machine client's order
    voucher_id: UUID | None = None
    voucher_code: str | None = None
    billing_address: Address | None = None
    version: int = 1
    tenant_id: UUID | None = None  # the shop it belongs to; None: the shared public pool (set by storage)
    tenant_seq: int | None = None  # its place in its tenant's own count (set by storage); None: numbered by seq

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        customer_id: UUID | None,
        lines: Sequence[OrderLine],
        note: str | None,
        now: datetime,
        placed_by_key: UUID | None = None,
        voucher: Voucher | None = None,
        billing_address: Address | None = None,
        seq: int = UNNUMBERED,
    ) -> tuple[Order, list[Event]]:
        """A PLACED order; a voucher's discount is taken off the subtotal (and its use counted)."""
        check_lines(lines)
        currency = lines[0].unit_price.currency
        subtotal = total([line.amount for line in lines], currency)
        discount = Money.zero(currency) if voucher is None else voucher.discount_on(subtotal, now)
        order = cls(
            id=id,
            seq=seq,
            customer_id=customer_id,
            lines=tuple(
                OrderLine(line.pet_id, line.name, line.unit_price, line.quantity, n)
                for n, line in enumerate(lines, start=1)
            ),  # numbered: as replace(line, id=n), without its field-by-field copy
            currency=currency,
            subtotal=subtotal,
            discount_total=discount,
            total=subtotal - discount,
            note=note,
            status=OrderStatus.PLACED,
            created_at=now,
            updated_at=now,
            payment_summary=PaymentSummary.unpaid(currency),
            placed_by_key=placed_by_key,
            voucher_id=None if voucher is None else voucher.id,
            voucher_code=None if voucher is None else voucher.code,
            billing_address=billing_address,
        )
        if voucher is not None:
            voucher.use()
        return order, [OrderPlaced(order_id=id, occurred_at=now)]

    @property
    def number(self) -> str:
        """What shops show: counted per tenant, and by ``seq`` in the public pool (ADR 0040)."""
        return str(NUMBER_OFFSET + (self.seq if self.tenant_seq is None else self.tenant_seq))

    def ensure_total(self, expected: Money) -> None:
        """Refuse a client's total that is not what the catalogue prices add up to."""
        if expected != self.total:
            raise TotalMismatch(
                f"the order totals {self.total} {self.currency}, not {expected}",
                expected=str(self.total),
                sent=str(expected),
            )

    def quantities(self) -> dict[UUID, int]:
        return {line.pet_id: line.quantity for line in self.lines}

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def line(self, line_id: int) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def ensure_lines_editable(self, *, unpaid_only: bool = False) -> None:
        """Lines are removed only before shipping and outside a cancel: PLACED or APPROVED; only PLACED where
        the API asked through promises no more (``unpaid_only``: the DRF shop's, ADR 0026)."""
        if self.status not in LINES_EDITABLE or (unpaid_only and self.status is not OrderStatus.PLACED):
            raise OrderNotEditable(f"an order in status {self.status} cannot be changed",
                                   current_status=str(self.status), reason="status")  # fmt: skip

    def remove_units(self, line_id: int, quantity: int, voucher: Voucher | None, now: datetime) -> LineRemoval:
        """Take ``quantity`` units off a line (the line goes at zero) and price what is left again (ADR 0022).

        The order's voucher is applied again to the new subtotal (a percentage recomputed, an amount capped),
        or released, its use given back, when the subtotal falls below its minimum. A paid order whose total
        that would raise is refused: orderline never asks a customer for more money. Taking the last units
        is a cancel, not an edit; the caller decides that before.
        """
        self.ensure_lines_editable()
        line = self.line(line_id)
        if line is None or not 1 <= quantity <= line.quantity or quantity >= self.units:
            raise ValueError(f"cannot take {quantity} units off line {line_id} of order {self.id}")  # a bug
        lines = _without(self.lines, line, quantity)
        subtotal = total([kept.amount for kept in lines], self.currency)
        assert (voucher is None) == (self.voucher_id is None), "the caller loads the order's voucher"
        keeps = voucher is not None and voucher.holds_on(subtotal)
        discount = voucher.kept_on(subtotal) if voucher is not None and keeps else Money.zero(self.currency)
        if self.status is OrderStatus.APPROVED and subtotal - discount > self.total:
            raise OrderNotEditable(
                f"removing these units releases voucher {self.voucher_code} (its minimum no longer holds) and the "
                f"order would cost more than was paid; remove fewer units or cancel the order",
                current_status=str(self.status),
                reason="would-cost-more",
            )
        released = self.voucher_code if voucher is not None and not keeps else None
        removal = LineRemoval(line, quantity, self.subtotal, self.total, released)
        self.lines, self.subtotal, self.discount_total, self.total = lines, subtotal, discount, subtotal - discount
        if voucher is not None and not keeps:
            voucher.free()
            self.voucher_id = self.voucher_code = None
        self.updated_at = now
        self.version += 1
        return removal

    def change_billing_address(self, address: Address, now: datetime) -> None:
        """A new billing address, while the order is PLACED (paid orders keep the address they were paid with)."""
        if self.status is not OrderStatus.PLACED:
            raise OrderNotEditable(f"the billing address of an order in status {self.status} cannot change",
                                   current_status=str(self.status), reason="status")  # fmt: skip
        self.billing_address = address
        self.updated_at = now
        self.version += 1

    @property
    def holds_reservation(self) -> bool:
        """Are this order's units reserved (not yet sold, not yet released)?"""
        return self.status in HOLDS_RESERVATION and self.shipped_at is None

    def ensure_payable(self, amount: Money) -> None:
        """Only a PLACED order takes a payment, only of exactly its total, and only if that is not zero."""
        if self.status is not OrderStatus.PLACED:
            raise OrderNotPayable(f"an order in status {self.status} takes no payment", current_status=str(self.status))
        if self.total.amount_minor == 0:
            # A payment is an amount captured (payments.amount_minor > 0); a free order has nothing to capture.
            raise OrderNotPayable(f"the order totals {self.total} {self.currency}: nothing to pay",
                                  current_status=str(self.status))  # fmt: skip
        if amount.currency != self.currency or amount != self.total:
            raise PaymentMismatch(
                f"the order totals {self.total} {self.currency}, not {amount} {amount.currency}",
                expected_amount=str(self.total),
                expected_currency=self.currency,
            )

    def cancel(
        self,
        *,
        reason: CancelReason,
        note: str | None,
        now: datetime,
        force: bool = False,
        refund_pending: bool = False,
    ) -> list[Event]:
        """Cancel: at once, or — while money is being returned — CANCEL_PENDING until the refund settles.

        Refused (changing nothing) unless the status allows a cancel.
        """
        allowed_from = FORCE_CANCELLABLE if force else CANCELLABLE
        if self.status not in allowed_from:
            raise OrderNotCancellable(
                f"an order in status {self.status} cannot be cancelled",
                current_status=str(self.status),
            )
        previous = self.status
        target = OrderStatus.CANCEL_PENDING if refund_pending else OrderStatus.CANCELLED
        changed = self._move(target, now, force=force)
        self.cancel_reason = reason
        self.cancel_note = note
        self.cancel_requested_at = now
        if not refund_pending:
            self.cancelled_at = now
            return [changed, self._cancelled(previous, force, now)]
        return [changed]

    def complete_cancel(self, now: datetime) -> list[Event]:
        """The refund went through: CANCEL_PENDING becomes CANCELLED."""
        changed = self._move(OrderStatus.CANCELLED, now, only_from=OrderStatus.CANCEL_PENDING)
        self.cancelled_at = now
        assert self.cancel_reason is not None, "a pending cancel has its reason"
        return [changed, self._cancelled(OrderStatus.CANCEL_PENDING, False, now)]

    def roll_back_cancel(self, now: datetime) -> list[Event]:
        """The refund failed: the order goes back to where it was (APPROVED, or SHIPPED) and is not cancelled."""
        back = OrderStatus.APPROVED if self.shipped_at is None else OrderStatus.SHIPPED
        changed = self._move(back, now, only_from=OrderStatus.CANCEL_PENDING)
        self.cancel_reason = None
        self.cancel_note = None
        self.cancel_requested_at = None
        return [changed]

    @property
    def payment_status(self) -> OrderPaymentStatus:
        return self.payment_summary.status

    def track_payment(self, summary: PaymentSummary, now: datetime) -> None:
        """Show what the recorded facts give: the payment status and the money captured and refunded (a change
        of any is a new version of the order)."""
        if summary != self.payment_summary:
            self.payment_summary = summary
            self.updated_at = now
            self.version += 1

    def _cancelled(self, previous: OrderStatus, forced: bool, now: datetime) -> OrderCancelled:
        assert self.cancel_reason is not None
        return OrderCancelled(
            order_id=self.id, previous_status=previous, reason=self.cancel_reason, forced=forced, occurred_at=now
        )

    def pay(self, now: datetime) -> list[Event]:
        """A payment succeeded: PLACED becomes APPROVED."""
        events = self.approve(now)
        self.paid_at = now
        return events

    def approve(self, now: datetime) -> list[Event]:
        return [self._move(OrderStatus.APPROVED, now, only_from=OrderStatus.PLACED)]

    def ship(self, now: datetime) -> list[Event]:
        event = self._move(OrderStatus.SHIPPED, now, only_from=OrderStatus.APPROVED)
        self.shipped_at = now
        return [event]

    def deliver(self, now: datetime) -> list[Event]:
        event = self._move(OrderStatus.DELIVERED, now)
        self.delivered_at = now
        return [event]

    def _move(
        self, target: OrderStatus, now: datetime, *, force: bool = False, only_from: OrderStatus | None = None
    ) -> OrderStatusChanged:
        """Make one move of the status table; ``only_from`` narrows it to the move this command is for
        (CANCEL_PENDING may go back to APPROVED or SHIPPED, but only a failed refund takes it there)."""
        if only_from is not None and self.status is not only_from:
            raise IllegalTransition(
                f"an order cannot go from {self.status} to {target} this way",
                current_status=str(self.status),
                target_status=str(target),
            )
        ensure_transition(self.status, target, force=force)
        previous, self.status = self.status, target
        self.updated_at = now
        self.version += 1
        return OrderStatusChanged(order_id=self.id, previous_status=previous, new_status=target, occurred_at=now)


def _without(lines: tuple[OrderLine, ...], line: OrderLine, quantity: int) -> tuple[OrderLine, ...]:
    """``lines`` with ``quantity`` units fewer on ``line``, which goes when none are left."""
    left = line.quantity - quantity
    changed = [replace(line, quantity=left)] if left else []
    return tuple(kept for other in lines for kept in (changed if other.id == line.id else [other]))


def check_lines(lines: Sequence[OrderLine]) -> None:
    """An order has 1..MAX_LINES lines, each pet once, each quantity 1..MAX_QUANTITY, one currency."""
    if not lines:
        raise InvalidOrder("an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise InvalidOrder(f"an order has at most {MAX_LINES} lines", lines=len(lines))
    pet_ids = [line.pet_id for line in lines]
    if len(set(pet_ids)) != len(pet_ids):
        raise InvalidOrder("each pet may appear only once in an order; raise its quantity instead")
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"quantity must be between 1 and {MAX_QUANTITY}", quantity=line.quantity)
    currencies = sorted({line.unit_price.currency for line in lines})
    if len(currencies) > 1:
        raise CurrencyMismatch("every pet in one order must be priced in the same currency", currencies=currencies)
