"""Editing an open order in the domain: lines keep stable ids, units come off a line and the order is priced
again (voucher re-applied or released), and only open orders change."""

from __future__ import annotations

import uuid

import pytest

from orderline.domain.address import Address
from orderline.domain.errors import OrderNotEditable
from orderline.domain.order import Order, OrderLine
from orderline.domain.status import OrderStatus
from orderline.domain.voucher import Voucher
from tests.unit.builders import LATER, NOW, a_line, an_id, an_order, usd

S = OrderStatus


def a_voucher(**fields: object) -> Voucher:
    values: dict[str, object] = {"id": uuid.UUID(int=7), "code": "TENOFF", "percent_off": None, "amount_off": None,
                                 "max_uses": None, "expires_at": None, "created_at": NOW} | fields  # fmt: skip
    return Voucher(**values)  # type: ignore[arg-type]


def placed_with(voucher: Voucher, *lines: OrderLine) -> Order:
    order, _ = Order.place(id=an_id(100), seq=1, customer_id=None, lines=lines, note=None, now=NOW, voucher=voucher)
    return order


def two_lines(status: S = S.PLACED) -> Order:
    return an_order(status, lines=(a_line(1, price=usd("10.00"), quantity=3), a_line(2, price=usd("5.00"))))


def test_placing_numbers_the_lines_one_two_three() -> None:
    order = an_order(lines=(a_line(1), a_line(2), a_line(3)))

    assert [line.id for line in order.lines] == [1, 2, 3]


def test_taking_units_off_a_line_leaves_the_rest_and_prices_the_order_again() -> None:
    order = two_lines()

    removal = order.remove_units(1, 2, None, LATER)

    assert [(line.id, line.quantity) for line in order.lines] == [(1, 1), (2, 1)]
    assert (order.subtotal, order.discount_total, order.total) == (usd("15.00"), usd("0.00"), usd("15.00"))
    assert (removal.removed, removal.quantity_after, removal.total_before) == (2, 1, usd("35.00"))
    assert (order.version, order.updated_at) == (2, LATER)


def test_a_line_whose_every_unit_is_taken_off_goes_and_the_others_keep_their_ids() -> None:
    order = two_lines()

    order.remove_units(1, 3, None, LATER)

    assert [(line.id, line.quantity) for line in order.lines] == [(2, 1)]


def test_a_percentage_voucher_is_recomputed_on_what_is_left() -> None:
    voucher = a_voucher(percent_off=10)
    order = placed_with(voucher, a_line(1, price=usd("10.00"), quantity=3), a_line(2, price=usd("5.55")))

    order.remove_units(1, 2, voucher, LATER)

    assert (order.subtotal, order.discount_total, order.total) == (usd("15.55"), usd("1.55"), usd("14.00"))
    assert (order.voucher_code, voucher.uses) == ("TENOFF", 1)


def test_an_amount_off_voucher_is_capped_at_the_new_subtotal() -> None:
    voucher = a_voucher(amount_off=usd("12.00"))
    order = placed_with(voucher, a_line(1, price=usd("10.00"), quantity=3), a_line(2, price=usd("5.00")))

    order.remove_units(1, 3, voucher, LATER)

    assert (order.subtotal, order.discount_total, order.total) == (usd("5.00"), usd("5.00"), usd("0.00"))


def test_a_voucher_whose_minimum_no_longer_holds_is_released_and_its_use_given_back() -> None:
    voucher = a_voucher(percent_off=10, min_subtotal=usd("30.00"))
    order = placed_with(voucher, a_line(1, price=usd("10.00"), quantity=3), a_line(2, price=usd("5.00")))

    removal = order.remove_units(1, 1, voucher, LATER)

    assert (order.subtotal, order.discount_total, order.total) == (usd("25.00"), usd("0.00"), usd("25.00"))
    assert (order.voucher_id, order.voucher_code, removal.released_voucher) == (None, None, "TENOFF")
    assert voucher.uses == 0


def test_a_voucher_whose_minimum_still_holds_is_kept() -> None:
    voucher = a_voucher(percent_off=10, min_subtotal=usd("30.00"))
    order = placed_with(voucher, a_line(1, price=usd("10.00"), quantity=3), a_line(2, price=usd("5.00")))

    removal = order.remove_units(2, 1, voucher, LATER)

    assert (order.total, order.voucher_code, removal.released_voucher, voucher.uses) == (
        usd("27.00"), "TENOFF", None, 1)  # fmt: skip


def test_a_paid_order_that_would_cost_more_without_its_voucher_is_refused_and_unchanged() -> None:
    voucher = a_voucher(percent_off=50, min_subtotal=usd("100.00"))
    order = placed_with(voucher, a_line(1, price=usd("20.00"), quantity=2), a_line(2, price=usd("75.00")))
    order.status = S.APPROVED  # paid 57.50 for 115.00 of pets
    before = (order.lines, order.total, order.version, voucher.uses)

    with pytest.raises(OrderNotEditable) as refused:
        order.remove_units(1, 1, voucher, LATER)  # 95.00 left, under the minimum: 95.00 > 57.50 paid

    assert refused.value.details == {"current_status": "APPROVED", "reason": "would-cost-more"}
    assert (order.lines, order.total, order.version, voucher.uses) == before


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.CANCEL_PENDING, S.CANCELLED])
def test_only_a_placed_or_approved_order_has_units_taken_off(status: S) -> None:
    order = two_lines(status)
    before = (order.lines, order.version)

    with pytest.raises(OrderNotEditable) as refused:
        order.remove_units(1, 1, None, LATER)

    assert refused.value.details == {"current_status": str(status), "reason": "status"}
    assert (order.lines, order.version) == before


@pytest.mark.parametrize(("line_id", "quantity"), [(9, 1), (1, 0), (1, 4), (2, 2)])
def test_taking_units_a_line_does_not_have_is_a_bug_the_use_case_refuses_first(line_id: int, quantity: int) -> None:
    order = two_lines()

    with pytest.raises(ValueError, match="cannot take"):
        order.remove_units(line_id, quantity, None, LATER)


def test_taking_every_unit_left_is_a_cancel_not_an_edit() -> None:
    order = an_order(lines=(a_line(1, quantity=2),))

    with pytest.raises(ValueError, match="cannot take"):
        order.remove_units(1, 2, None, LATER)


def test_a_placed_order_takes_a_new_billing_address() -> None:
    order = an_order()
    address = Address("1 Main St", "Springfield", "12345", "US")

    order.change_billing_address(address, LATER)

    assert (order.billing_address, order.version) == (address, 2)


@pytest.mark.parametrize("status", [s for s in S if s is not S.PLACED])
def test_only_a_placed_order_changes_its_billing_address(status: S) -> None:
    order = an_order(status)

    with pytest.raises(OrderNotEditable):
        order.change_billing_address(Address("1 Main St", "Springfield", "12345", "US"), LATER)

    assert order.billing_address is None
