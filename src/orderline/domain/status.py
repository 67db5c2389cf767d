"""The order status table: which status may follow which, and the one function that refuses the rest."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from orderline.domain.errors import IllegalTransition


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    APPROVED = "APPROVED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELLED = "CANCELLED"


_S = OrderStatus

# The status table, as docs/architecture.md ("Order status") shows it. DELIVERED and CANCELLED are terminal.
# CANCEL_PENDING waits for a refund: it ends CANCELLED, or goes back where it came from when the refund
# fails — APPROVED, or SHIPPED after an admin's force-cancel of a shipped order (ADR 0013).
ALLOWED: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.PLACED: frozenset({_S.APPROVED, _S.CANCELLED}),
    _S.APPROVED: frozenset({_S.SHIPPED, _S.CANCEL_PENDING, _S.CANCELLED}),
    _S.CANCEL_PENDING: frozenset({_S.CANCELLED, _S.APPROVED, _S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.DELIVERED, _S.CANCEL_PENDING, _S.CANCELLED}),
    _S.DELIVERED: frozenset(),
    _S.CANCELLED: frozenset(),
}

# Moves in ALLOWED that only an admin force-cancel may make.
FORCE_ONLY: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {(_S.SHIPPED, _S.CANCEL_PENDING), (_S.SHIPPED, _S.CANCELLED)}
)

# Where a cancel command may start from: a customer's, and an admin's force-cancel.
CANCELLABLE: frozenset[OrderStatus] = frozenset({_S.PLACED, _S.APPROVED})
FORCE_CANCELLABLE: frozenset[OrderStatus] = CANCELLABLE | {_S.SHIPPED}

# Where removing lines may start from (ADR 0022): before shipping, and not while a cancel is under way.
LINES_EDITABLE: frozenset[OrderStatus] = frozenset({_S.PLACED, _S.APPROVED})

TERMINAL: frozenset[OrderStatus] = frozenset(s for s, nexts in ALLOWED.items() if not nexts)

# While an order is in one of these (and has not shipped), its units are reserved: cancelling
# releases them. From SHIPPED on they are sold; a force-cancel of a shipped order leaves the stock
# as it is, also while that cancel waits in CANCEL_PENDING for its refund (see Order.holds_reservation).
HOLDS_RESERVATION: frozenset[OrderStatus] = frozenset({_S.PLACED, _S.APPROVED, _S.CANCEL_PENDING})


def ensure_transition(current: OrderStatus, target: OrderStatus, *, force: bool = False) -> None:
    """Refuse any move the table does not allow (and force-only moves without ``force``)."""
    allowed = target in ALLOWED[current] and (force or (current, target) not in FORCE_ONLY)
    if not allowed:
        raise IllegalTransition(
            f"an order cannot go from {current} to {target}",
            current_status=str(current),
            target_status=str(target),
        )
