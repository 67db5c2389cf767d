"""The one table from the core's order statuses to sFOX's status names and codes (ADR 0025)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orderline.domain.status import OrderStatus


@dataclass(frozen=True, slots=True)
class SfoxStatus:
    name: str  # as sFOX's order objects write it: "Started", "Cancel Pending", ...
    code: int


STARTED = SfoxStatus("Started", 100)
CANCEL_PENDING = SfoxStatus("Cancel Pending", 90)
CANCELED = SfoxStatus("Canceled", 10)
FILLED = SfoxStatus("Filled", 210)
DONE = SfoxStatus("Done", 300)

# An APPROVED (paid) order is still Started: sFOX cancels only open orders, and a paid order can still be
# cancelled. Shipped is Filled (complete, not yet settled); delivered is Done.
STATUSES: Mapping[OrderStatus, SfoxStatus] = {
    OrderStatus.PLACED: STARTED,
    OrderStatus.APPROVED: STARTED,
    OrderStatus.SHIPPED: FILLED,
    OrderStatus.DELIVERED: DONE,
    OrderStatus.CANCEL_PENDING: CANCEL_PENDING,
    OrderStatus.CANCELLED: CANCELED,
}

# GET /orders lists open orders: Started, and Cancel Pending (sFOX: "fills may still arrive").
OPEN: frozenset[OrderStatus] = frozenset(s for s, shown in STATUSES.items() if shown in (STARTED, CANCEL_PENDING))

# The cancel answers, each written as the original page writes it: lower case for one order, a capital first
# letter in the bulk answer's list.
CANCEL_ANSWERS: Mapping[OrderStatus, str] = {
    OrderStatus.CANCELLED: "canceled",
    OrderStatus.CANCEL_PENDING: "cancel pending",
}
ALREADY_FINISHED = "order already finished"
BULK_ANSWERS: Mapping[OrderStatus, str] = {
    OrderStatus.CANCELLED: "Canceled",
    OrderStatus.CANCEL_PENDING: "Cancel pending",
}
