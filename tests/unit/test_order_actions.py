"""What the dashboard offers to do to an order follows the status table and the caller's scopes."""

from __future__ import annotations

import pytest

from orderline.application.order_actions import OrderAction, allowed_actions
from orderline.application.principal import Scope
from orderline.domain.status import OrderStatus
from tests.support import a_principal
from tests.unit.builders import a_line, an_order

ADMIN = a_principal(Scope.ADMIN)
CLERK = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS)
A = OrderAction


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (OrderStatus.PLACED, {A.CANCEL, A.REMOVE_LINE, A.ERASE}),
        (OrderStatus.APPROVED, {A.CANCEL, A.REMOVE_LINE, A.SHIP, A.ERASE}),
        (OrderStatus.SHIPPED, {A.FORCE_CANCEL, A.DELIVER, A.ERASE}),
        (OrderStatus.CANCEL_PENDING, {A.ERASE}),
        (OrderStatus.DELIVERED, {A.ERASE}),
        (OrderStatus.CANCELLED, {A.ERASE}),
    ],
)
def test_an_admin_is_offered_what_the_status_table_allows(status: OrderStatus, offered: set[OrderAction]) -> None:
    order = an_order(status, lines=(a_line(quantity=2),))

    assert allowed_actions(order, ADMIN) == offered


def test_an_order_of_one_unit_offers_no_line_removal_since_removing_it_is_a_cancel() -> None:
    order = an_order(OrderStatus.PLACED, lines=(a_line(quantity=1),))

    assert OrderAction.REMOVE_LINE not in allowed_actions(order, ADMIN)


def test_staff_without_the_admin_scope_may_cancel_but_not_force_cancel_ship_or_erase() -> None:
    shipped, placed = an_order(OrderStatus.SHIPPED), an_order(OrderStatus.PLACED, lines=(a_line(quantity=2),))

    assert allowed_actions(shipped, CLERK) == frozenset()
    assert allowed_actions(placed, CLERK) == {A.CANCEL, A.REMOVE_LINE}
