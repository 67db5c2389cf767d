"""The order status table: every (from, to) pair checked against the table in docs/architecture.md, written out here."""

from __future__ import annotations

from itertools import product

import pytest

from orderline.domain.errors import IllegalTransition
from orderline.domain.status import (
    CANCELLABLE,
    FORCE_CANCELLABLE,
    TERMINAL,
    OrderStatus,
    ensure_transition,
)

PLACED = OrderStatus.PLACED
APPROVED = OrderStatus.APPROVED
SHIPPED = OrderStatus.SHIPPED
DELIVERED = OrderStatus.DELIVERED
CANCEL_PENDING = OrderStatus.CANCEL_PENDING
CANCELLED = OrderStatus.CANCELLED

# docs/architecture.md "Order status", row by row, copied from the document rather than from the code.
DESIGN_TABLE: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {
        (PLACED, APPROVED),
        (PLACED, CANCELLED),
        (APPROVED, SHIPPED),
        (APPROVED, CANCEL_PENDING),
        (APPROVED, CANCELLED),
        (CANCEL_PENDING, CANCELLED),
        (CANCEL_PENDING, APPROVED),
        (SHIPPED, DELIVERED),
        # Not in the design brief: a force-cancelled SHIPPED order whose refund fails goes back to SHIPPED,
        # not to APPROVED (its units are sold). ADR 0013.
        (CANCEL_PENDING, SHIPPED),
    }
)
# "SHIPPED | CANCEL_PENDING / CANCELLED | admin force-cancel only".
DESIGN_FORCE_ONLY: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {(SHIPPED, CANCEL_PENDING), (SHIPPED, CANCELLED)}
)
DESIGN_TERMINAL = {DELIVERED, CANCELLED}

EVERY_PAIR = [
    pytest.param(current, target, id=f"{current}->{target}") for current, target in product(OrderStatus, OrderStatus)
]


def _allowed(current: OrderStatus, target: OrderStatus, *, force: bool) -> bool:
    try:
        ensure_transition(current, target, force=force)
    except IllegalTransition:
        return False
    return True


@pytest.mark.parametrize(("current", "target"), EVERY_PAIR)
def test_without_force_exactly_the_designed_moves_are_allowed(current: OrderStatus, target: OrderStatus) -> None:
    expected = (current, target) in DESIGN_TABLE

    allowed = _allowed(current, target, force=False)

    assert allowed is expected


@pytest.mark.parametrize(("current", "target"), EVERY_PAIR)
def test_with_force_the_designed_moves_and_the_force_only_moves_are_allowed(
    current: OrderStatus, target: OrderStatus
) -> None:
    expected = (current, target) in DESIGN_TABLE | DESIGN_FORCE_ONLY

    allowed = _allowed(current, target, force=True)

    assert allowed is expected


@pytest.mark.parametrize(("current", "target"), sorted(DESIGN_FORCE_ONLY))
def test_a_shipped_order_cannot_be_cancelled_without_force(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(IllegalTransition) as refused:
        ensure_transition(current, target)

    assert refused.value.details == {"current_status": str(current), "target_status": str(target)}


@pytest.mark.parametrize("target", list(OrderStatus))
@pytest.mark.parametrize("terminal", sorted(DESIGN_TERMINAL))
@pytest.mark.parametrize("force", [False, True])
def test_a_terminal_status_has_no_exits(terminal: OrderStatus, target: OrderStatus, force: bool) -> None:
    with pytest.raises(IllegalTransition):
        ensure_transition(terminal, target, force=force)


def test_the_terminal_statuses_are_delivered_and_cancelled() -> None:
    assert TERMINAL == DESIGN_TERMINAL


@pytest.mark.parametrize("status", list(OrderStatus))
def test_no_status_moves_to_itself(status: OrderStatus) -> None:
    with pytest.raises(IllegalTransition):
        ensure_transition(status, status, force=True)


def test_a_customer_may_cancel_only_placed_or_approved_orders() -> None:
    assert {PLACED, APPROVED} == CANCELLABLE


def test_an_admin_force_cancel_may_also_start_from_shipped() -> None:
    assert {PLACED, APPROVED, SHIPPED} == FORCE_CANCELLABLE


@pytest.mark.parametrize("status", sorted(FORCE_CANCELLABLE))
def test_every_status_a_cancel_may_start_from_can_move_to_cancelled(status: OrderStatus) -> None:
    ensure_transition(status, CANCELLED, force=status not in CANCELLABLE)
