"""The one status mapping: an order's status and payment status as Shoplazza's three (ADR 0024, docs/dialects.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus


class ShoplazzaStatus(StrEnum):
    OPENED = "opened"
    PLACED = "placed"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class FinancialStatus(StrEnum):
    """Every value Shoplazza documents; orderline shows those of FINANCIAL, and a filter may name any."""

    WAITING = "waiting"
    PAYING = "paying"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDING = "refunding"
    REFUND_FAILED = "refund_failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class FulfillmentStatus(StrEnum):
    """Every value Shoplazza documents; orderline shows those of STATUS."""

    INITIALLED = "initialled"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    PARTIALLY_FINISHED = "partially_finished"
    FINISHED = "finished"
    RETURNING = "returning"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"


_S, _F = OrderStatus, FulfillmentStatus

# status and fulfillment_status follow the order's status. A cancelled order reads `cancelled` whether or not it
# was paid, as the cancel page says; so does one whose refund is still on its way (CANCEL_PENDING).
STATUS: Mapping[OrderStatus, tuple[ShoplazzaStatus, FulfillmentStatus]] = {
    _S.PLACED: (ShoplazzaStatus.OPENED, _F.INITIALLED),
    _S.APPROVED: (ShoplazzaStatus.PLACED, _F.WAITING),
    _S.SHIPPED: (ShoplazzaStatus.PLACED, _F.SHIPPED),
    _S.DELIVERED: (ShoplazzaStatus.FINISHED, _F.FINISHED),
    _S.CANCEL_PENDING: (ShoplazzaStatus.CANCELLED, _F.CANCELLED),
    _S.CANCELLED: (ShoplazzaStatus.CANCELLED, _F.CANCELLED),
}

# financial_status follows the payment status, but for an order cancelled before it was paid (UNPAID_CANCELLED).
FINANCIAL: Mapping[OrderPaymentStatus, FinancialStatus] = {
    OrderPaymentStatus.UNPAID: FinancialStatus.WAITING,
    OrderPaymentStatus.PAID: FinancialStatus.PAID,
    OrderPaymentStatus.REFUND_PENDING: FinancialStatus.REFUNDING,
    OrderPaymentStatus.REFUNDED: FinancialStatus.REFUNDED,
    OrderPaymentStatus.REFUND_FAILED: FinancialStatus.REFUND_FAILED,
    OrderPaymentStatus.PARTIALLY_REFUNDED: FinancialStatus.PARTIALLY_REFUNDED,
}
UNPAID_CANCELLED = FinancialStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class Shown:
    status: ShoplazzaStatus
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus


def shown(status: OrderStatus, payment: OrderPaymentStatus) -> Shown:
    """How Shoplazza shows an order in ``status`` with ``payment``."""
    shop_status, fulfillment = STATUS[status]
    unpaid_cancel = payment is OrderPaymentStatus.UNPAID and shop_status is ShoplazzaStatus.CANCELLED
    return Shown(shop_status, UNPAID_CANCELLED if unpaid_cancel else FINANCIAL[payment], fulfillment)


@dataclass(frozen=True, slots=True)
class Matching:
    """The orderline statuses and payment statuses whose every pairing shows as a filter asks."""

    statuses: frozenset[OrderStatus]
    payment_statuses: frozenset[OrderPaymentStatus]

    @property
    def none(self) -> bool:
        return not self.statuses or not self.payment_statuses


def matching(
    status: ShoplazzaStatus | None = None,
    financial_status: FinancialStatus | None = None,
    fulfillment_status: FulfillmentStatus | None = None,
) -> Matching:
    """The orders a list's filters select, read backwards from the table above (None: any)."""
    pairs = [
        (core, payment)
        for core in OrderStatus
        for payment in OrderPaymentStatus
        if _fits(shown(core, payment), status, financial_status, fulfillment_status)
    ]
    found = Matching(frozenset(core for core, _ in pairs), frozenset(payment for _, payment in pairs))
    # Each filter selects statuses times payment statuses, so together they do too: no pairing slips in.
    assert len(pairs) == len(found.statuses) * len(found.payment_statuses), "the table is not a product"
    return found


def _fits(
    seen: Shown,
    status: ShoplazzaStatus | None,
    financial: FinancialStatus | None,
    fulfillment: FulfillmentStatus | None,
) -> bool:
    return (
        status in (None, seen.status)
        and financial in (None, seen.financial_status)
        and fulfillment in (None, seen.fulfillment_status)
    )
