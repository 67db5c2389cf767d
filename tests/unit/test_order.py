"""The order aggregate: placing from lines, line rules, totals, and the moves that return events."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import pytest

from orderline.domain.errors import (
    CurrencyMismatch,
    IllegalTransition,
    InvalidOrder,
    OrderNotCancellable,
    OrderNotPayable,
    TotalMismatch,
)
from orderline.domain.events import OrderCancelled, OrderPlaced, OrderStatusChanged
from orderline.domain.money import Money
from orderline.domain.order import MAX_LINES, MAX_QUANTITY, CancelReason, Order, check_lines
from orderline.domain.status import OrderStatus
from tests.unit.builders import LATER, NOW, a_line, an_id, an_order, usd


def test_placing_an_order_totals_its_lines_at_their_snapshot_prices() -> None:
    lines = [a_line(1, price=usd("150.00"), quantity=2), a_line(2, price=usd("12.50"), quantity=1)]

    order, _ = Order.place(id=an_id(100), seq=1, customer_id=None, lines=lines, note="gift", now=NOW)

    assert (order.subtotal, order.discount_total, order.total) == (usd("312.50"), usd("0.00"), usd("312.50"))
    assert order.currency == "USD"
    assert order.lines == tuple(replace(line, id=n) for n, line in enumerate(lines, start=1))


def test_a_placed_order_starts_placed_at_version_one() -> None:
    order, _ = Order.place(id=an_id(100), seq=1, customer_id=an_id(200), lines=[a_line()], note=None, now=NOW)

    assert (order.status, order.version, order.created_at, order.updated_at) == (
        OrderStatus.PLACED,
        1,
        NOW,
        NOW,
    )
    assert (order.cancel_reason, order.cancelled_at, order.shipped_at, order.delivered_at) == (
        None,
        None,
        None,
        None,
    )


def test_placing_an_order_returns_an_order_placed_event() -> None:
    _, events = Order.place(id=an_id(100), seq=1, customer_id=None, lines=[a_line()], note=None, now=NOW)

    assert events == [OrderPlaced(order_id=an_id(100), occurred_at=NOW)]


def test_an_order_takes_the_currency_of_its_lines() -> None:
    price = Money.parse("1500", "JPY")

    order, _ = Order.place(
        id=an_id(100), seq=1, customer_id=None, lines=[a_line(price=price, quantity=3)], note=None, now=NOW
    )

    assert (order.currency, order.total) == ("JPY", Money.parse("4500", "JPY"))


def test_the_first_order_is_number_1001() -> None:
    order = an_order(seq=1)

    assert order.number == "1001"


def test_order_numbers_follow_the_sequence() -> None:
    order = an_order(seq=42)

    assert order.number == "1042"


@pytest.mark.parametrize("count", [1, MAX_LINES])
def test_an_order_may_have_one_to_max_lines_lines(count: int) -> None:
    lines = [a_line(n) for n in range(1, count + 1)]

    check_lines(lines)


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_a_line_may_ask_for_one_to_max_quantity_units(quantity: int) -> None:
    check_lines([a_line(quantity=quantity)])


def test_an_order_without_lines_is_refused() -> None:
    with pytest.raises(InvalidOrder):
        check_lines([])


def test_an_order_with_more_than_max_lines_is_refused() -> None:
    lines = [a_line(n) for n in range(1, MAX_LINES + 2)]

    with pytest.raises(InvalidOrder) as refused:
        check_lines(lines)

    assert refused.value.details == {"lines": MAX_LINES + 1}


def test_an_order_naming_one_pet_twice_is_refused() -> None:
    lines = [a_line(1), a_line(2), a_line(1, quantity=2)]

    with pytest.raises(InvalidOrder):
        check_lines(lines)


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1])
def test_a_line_with_a_quantity_out_of_range_is_refused(quantity: int) -> None:
    lines = [a_line(1), a_line(2, quantity=quantity)]

    with pytest.raises(InvalidOrder) as refused:
        check_lines(lines)

    assert refused.value.details == {"quantity": quantity}


def test_an_order_mixing_currencies_is_refused() -> None:
    lines = [a_line(1, price=usd("1.00")), a_line(2, price=Money.parse("1.00", "EUR"))]

    with pytest.raises(CurrencyMismatch) as refused:
        check_lines(lines)

    assert refused.value.details == {"currencies": ["EUR", "USD"]}


def test_placing_refuses_lines_that_break_the_rules() -> None:
    with pytest.raises(InvalidOrder):
        Order.place(id=an_id(100), seq=1, customer_id=None, lines=[], note=None, now=NOW)


def test_the_total_the_catalogue_adds_up_to_is_accepted() -> None:
    order = an_order(lines=(a_line(price=usd("150.00"), quantity=2),))

    order.ensure_total(usd("300.00"))


@pytest.mark.parametrize("sent", [usd("299.99"), usd("0.00"), Money.parse("300.00", "EUR")])
def test_a_client_total_that_disagrees_with_the_catalogue_is_refused(sent: Money) -> None:
    order = an_order(lines=(a_line(price=usd("150.00"), quantity=2),))

    with pytest.raises(TotalMismatch) as refused:
        order.ensure_total(sent)

    assert refused.value.details == {"expected": "300.00", "sent": str(sent)}


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.APPROVED])
def test_a_customer_can_cancel_an_order_that_has_not_shipped(status: OrderStatus) -> None:
    order = an_order(status)
    version = order.version

    events = order.cancel(reason=CancelReason.CUSTOMER_REQUEST, note="changed my mind", now=LATER)

    assert (order.status, order.cancel_reason, order.cancel_note, order.cancelled_at) == (
        OrderStatus.CANCELLED,
        CancelReason.CUSTOMER_REQUEST,
        "changed my mind",
        LATER,
    )
    assert (order.version, order.updated_at) == (version + 1, LATER)
    assert events == [
        OrderStatusChanged(
            order_id=order.id, previous_status=status, new_status=OrderStatus.CANCELLED, occurred_at=LATER
        ),
        OrderCancelled(
            order_id=order.id,
            previous_status=status,
            reason=CancelReason.CUSTOMER_REQUEST,
            forced=False,
            occurred_at=LATER,
        ),
    ]


NOT_CANCELLABLE = [
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCEL_PENDING,
    OrderStatus.CANCELLED,
]


@pytest.mark.parametrize("status", NOT_CANCELLABLE)
def test_an_order_that_has_moved_on_cannot_be_cancelled_by_its_customer(status: OrderStatus) -> None:
    order = an_order(status)
    before = copy.deepcopy(order)

    with pytest.raises(OrderNotCancellable) as refused:
        order.cancel(reason=CancelReason.CUSTOMER_REQUEST, note=None, now=LATER)

    assert refused.value.details == {"current_status": str(status)}
    assert order == before


def test_an_order_that_has_shipped_cannot_be_cancelled_by_its_customer() -> None:
    order = an_order(OrderStatus.SHIPPED)

    with pytest.raises(OrderNotCancellable) as refused:
        order.cancel(reason=CancelReason.CUSTOMER_REQUEST, note=None, now=LATER)

    assert refused.value.code == "order-not-cancellable"
    assert refused.value.details == {"current_status": "SHIPPED"}


def test_an_admin_can_force_cancel_a_shipped_order() -> None:
    order = an_order(OrderStatus.SHIPPED)
    version = order.version

    events = order.cancel(reason=CancelReason.FRAUD, note="chargeback", now=LATER, force=True)

    assert (order.status, order.cancel_reason, order.cancel_note, order.cancelled_at, order.version) == (
        OrderStatus.CANCELLED,
        CancelReason.FRAUD,
        "chargeback",
        LATER,
        version + 1,
    )
    assert events[-1] == OrderCancelled(
        order_id=order.id,
        previous_status=OrderStatus.SHIPPED,
        reason=CancelReason.FRAUD,
        forced=True,
        occurred_at=LATER,
    )


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.APPROVED])
def test_a_force_cancel_of_an_unshipped_order_is_recorded_as_forced(status: OrderStatus) -> None:
    order = an_order(status)

    events = order.cancel(reason=CancelReason.OTHER, note=None, now=LATER, force=True)

    assert order.status is OrderStatus.CANCELLED
    assert isinstance(events[-1], OrderCancelled)
    assert events[-1].forced is True


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.CANCEL_PENDING, OrderStatus.CANCELLED])
def test_even_a_force_cancel_is_refused_once_an_order_is_delivered_cancelled_or_cancelling(
    status: OrderStatus,
) -> None:
    order = an_order(status)
    before = copy.deepcopy(order)

    with pytest.raises(OrderNotCancellable) as refused:
        order.cancel(reason=CancelReason.OTHER, note=None, now=LATER, force=True)

    assert refused.value.details == {"current_status": str(status)}
    assert order == before


OrderMove = Callable[[Order], object]

MOVES: list[object] = [
    pytest.param(lambda order: order.approve(LATER), OrderStatus.PLACED, OrderStatus.APPROVED, id="approve"),
    pytest.param(
        lambda order: order.roll_back_cancel(LATER),
        OrderStatus.CANCEL_PENDING,
        OrderStatus.APPROVED,
        id="roll-back-after-failed-refund",
    ),
    pytest.param(lambda order: order.ship(LATER), OrderStatus.APPROVED, OrderStatus.SHIPPED, id="ship"),
    pytest.param(lambda order: order.deliver(LATER), OrderStatus.SHIPPED, OrderStatus.DELIVERED, id="deliver"),
]


@pytest.mark.parametrize(("move", "start", "end"), MOVES)
def test_a_status_move_bumps_the_version_and_returns_a_status_changed_event(
    move: OrderMove, start: OrderStatus, end: OrderStatus
) -> None:
    order = an_order(start)
    version = order.version

    events = move(order)

    assert (order.status, order.version, order.updated_at) == (end, version + 1, LATER)
    assert events == [OrderStatusChanged(order_id=order.id, previous_status=start, new_status=end, occurred_at=LATER)]


def test_shipping_stamps_shipped_at() -> None:
    order = an_order(OrderStatus.APPROVED)

    order.ship(LATER)

    assert order.shipped_at == LATER


def test_delivering_stamps_delivered_at() -> None:
    order = an_order(OrderStatus.SHIPPED)

    order.deliver(LATER)

    assert order.delivered_at == LATER


REFUSED_MOVES: list[object] = [
    pytest.param(lambda order: order.ship(LATER), OrderStatus.PLACED, id="ship-unpaid"),
    pytest.param(lambda order: order.deliver(LATER), OrderStatus.APPROVED, id="deliver-unshipped"),
    pytest.param(lambda order: order.approve(LATER), OrderStatus.SHIPPED, id="approve-shipped"),
    pytest.param(lambda order: order.approve(LATER), OrderStatus.CANCELLED, id="approve-cancelled"),
    pytest.param(lambda order: order.ship(LATER), OrderStatus.DELIVERED, id="ship-delivered"),
    pytest.param(lambda order: order.deliver(LATER), OrderStatus.DELIVERED, id="deliver-twice"),
    # The table lets CANCEL_PENDING go back to APPROVED or SHIPPED, but only a failed refund takes it there.
    pytest.param(lambda order: order.approve(LATER), OrderStatus.CANCEL_PENDING, id="approve-pending-cancel"),
    pytest.param(lambda order: order.ship(LATER), OrderStatus.CANCEL_PENDING, id="ship-pending-cancel"),
    pytest.param(lambda order: order.roll_back_cancel(LATER), OrderStatus.APPROVED, id="roll-back-without-cancel"),
    pytest.param(lambda order: order.complete_cancel(LATER), OrderStatus.APPROVED, id="complete-without-cancel"),
]


@pytest.mark.parametrize(("move", "start"), REFUSED_MOVES)
def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(move: OrderMove, start: OrderStatus) -> None:
    order = an_order(start)
    before = copy.deepcopy(order)

    with pytest.raises(IllegalTransition):
        move(order)

    assert order == before


def test_quantities_map_each_pet_to_its_quantity() -> None:
    order = an_order(lines=(a_line(1, quantity=2), a_line(2, quantity=5)))

    assert order.quantities() == {an_id(1): 2, an_id(2): 5}


def test_an_order_that_costs_nothing_takes_no_payment() -> None:
    order = an_order(lines=(a_line(price=usd("0.00")),))

    with pytest.raises(OrderNotPayable, match="nothing to pay"):
        order.ensure_payable(usd("0.00"))
