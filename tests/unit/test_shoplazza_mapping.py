"""Shoplazza's status mapping: every orderline status and payment status shows, and every filter reads back exactly."""

from __future__ import annotations

import itertools

import pytest

from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus
from orderline.http.dialects.shoplazza.mapping import (
    FINANCIAL,
    STATUS,
    FinancialStatus,
    FulfillmentStatus,
    ShoplazzaStatus,
    matching,
    shown,
)


def test_every_status_and_every_payment_status_has_a_row() -> None:
    assert set(STATUS) == set(OrderStatus)
    assert set(FINANCIAL) == set(OrderPaymentStatus)


@pytest.mark.parametrize(
    ("status", "payment", "expected"),
    [
        (OrderStatus.PLACED, OrderPaymentStatus.UNPAID, ("opened", "waiting", "initialled")),
        (OrderStatus.APPROVED, OrderPaymentStatus.PAID, ("placed", "paid", "waiting")),
        (OrderStatus.SHIPPED, OrderPaymentStatus.PAID, ("placed", "paid", "shipped")),
        (OrderStatus.DELIVERED, OrderPaymentStatus.PAID, ("finished", "paid", "finished")),
        (OrderStatus.CANCELLED, OrderPaymentStatus.UNPAID, ("cancelled", "cancelled", "cancelled")),
        (OrderStatus.CANCEL_PENDING, OrderPaymentStatus.REFUND_PENDING, ("cancelled", "refunding", "cancelled")),
        (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED, ("cancelled", "refunded", "cancelled")),
        (OrderStatus.APPROVED, OrderPaymentStatus.REFUND_FAILED, ("placed", "refund_failed", "waiting")),
    ],
)
def test_an_order_shows_as_the_table_says(
    status: OrderStatus, payment: OrderPaymentStatus, expected: tuple[str, str, str]
) -> None:
    seen = shown(status, payment)

    assert (seen.status, seen.financial_status, seen.fulfillment_status) == expected


FILTERS = list(itertools.product([None, *ShoplazzaStatus], [None, *FinancialStatus], [None, *FulfillmentStatus]))


@pytest.mark.parametrize(("status", "financial", "fulfillment"), FILTERS)
def test_a_filter_selects_exactly_the_orders_that_show_as_it_asks(
    status: ShoplazzaStatus | None, financial: FinancialStatus | None, fulfillment: FulfillmentStatus | None
) -> None:
    found = matching(status, financial, fulfillment)

    for core, payment in itertools.product(OrderStatus, OrderPaymentStatus):
        seen = shown(core, payment)
        fits = (
            status in (None, seen.status)
            and financial in (None, seen.financial_status)
            and fulfillment in (None, seen.fulfillment_status)
        )
        assert fits == (core in found.statuses and payment in found.payment_statuses), (core, payment)


def test_a_value_orderline_never_shows_selects_nothing() -> None:
    assert matching(financial_status=FinancialStatus.PARTIALLY_PAID).none
    assert matching(fulfillment_status=FulfillmentStatus.RETURNED).none
