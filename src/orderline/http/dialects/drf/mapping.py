"""The DRF shop's four order statuses and the core statuses each stands for (ADR 0026)."""

from __future__ import annotations

from enum import StrEnum

from orderline.domain.status import OrderStatus


class DrfStatus(StrEnum):
    """``Order.OrderStatus`` of the original: TextChoices, lower snake case."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The original knows no shipping and no asynchronous refund: a shipped order is still "paid" (delivered is
# its next word), and so is one whose cancel waits for its refund (the money is held until the refund
# settles, and a failed refund puts it back to APPROVED, "paid" again: the status never goes back).
STATUS_OF: dict[OrderStatus, DrfStatus] = {
    OrderStatus.PLACED: DrfStatus.AWAITING_PAYMENT,
    OrderStatus.APPROVED: DrfStatus.PAID,
    OrderStatus.SHIPPED: DrfStatus.PAID,
    OrderStatus.CANCEL_PENDING: DrfStatus.PAID,
    OrderStatus.DELIVERED: DrfStatus.DELIVERED,
    OrderStatus.CANCELLED: DrfStatus.CANCELLED,
}


def core_statuses(status: DrfStatus) -> frozenset[OrderStatus]:
    """The core statuses ``?status=`` asks for: every one shown as ``status``."""
    return frozenset(core for core, shown in STATUS_OF.items() if shown is status)
