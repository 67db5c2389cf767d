"""Bulk cancel: many orders cancelled one by one, each refusal that order's outcome (ADR 0023)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from orderline.application.errors import InvalidInput, NotFound
from orderline.domain.errors import OrderNotCancellable
from orderline.domain.order import CancelReason, Order
from orderline.domain.status import OrderStatus

MAX_BULK_CANCEL = 100


class BulkOutcome(StrEnum):
    CANCELLED = "CANCELLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    NOT_FOUND = "NOT_FOUND"  # no such order, or not one the caller may see


@dataclass(frozen=True, slots=True)
class BulkCancel:
    order_ids: Sequence[UUID]  # 1 to MAX_BULK_CANCEL ids, each once
    reason: CancelReason = CancelReason.CUSTOMER_REQUEST
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BulkCancelResult:
    order_id: UUID
    outcome: BulkOutcome
    status: OrderStatus | None  # the order's status after the attempt; None when NOT_FOUND


def check_bulk(order_ids: Sequence[UUID]) -> None:
    """Refuse, before anything is touched, a bulk cancel of no ids, of too many, or naming an id twice.

    A repeated id is refused rather than answered twice: its second answer would only describe the first.
    """
    if not 1 <= len(order_ids) <= MAX_BULK_CANCEL:
        raise InvalidInput("ids", f"give 1 to {MAX_BULK_CANCEL} order ids", "out-of-range")
    if len(set(order_ids)) != len(order_ids):
        raise InvalidInput("ids", "each order id may appear only once", "duplicate")


async def outcome_of(order_id: UUID, cancel: Awaitable[Order]) -> BulkCancelResult:
    """What one order's cancel came to: the status it left, or the refusal it met."""
    try:
        order = await cancel
    except NotFound:
        return BulkCancelResult(order_id, BulkOutcome.NOT_FOUND, None)
    except OrderNotCancellable as refused:
        return BulkCancelResult(order_id, BulkOutcome.NOT_CANCELLABLE, OrderStatus(refused.details["current_status"]))
    return BulkCancelResult(order_id, _BY_STATUS.get(order.status, BulkOutcome.NOT_CANCELLABLE), order.status)


# A cancel that returns the order left it CANCELLED, or CANCEL_PENDING while its refund runs, or where it was
# (APPROVED, SHIPPED) when the gateway refused the refund at once: that order was not cancelled.
_BY_STATUS = {OrderStatus.CANCELLED: BulkOutcome.CANCELLED, OrderStatus.CANCEL_PENDING: BulkOutcome.CANCEL_PENDING}
