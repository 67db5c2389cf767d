"""The dashboard overview's figures on both engines: orders and money by UTC day, reasons, refunds."""

from __future__ import annotations

from datetime import date, timedelta

from orderline.application.orders import CancelOrder
from orderline.application.overview import DAYS
from orderline.application.use_cases import UseCases
from orderline.domain.money import Money
from orderline.domain.order import CancelReason
from tests.support import ADMIN, SteppingClock, a_pet, an_order, approve


async def test_each_of_the_last_30_days_counts_its_orders_cancellations_and_money(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    pet = await a_pet(use_cases, stock=5, fee="10.00")
    await an_order(use_cases, pet)
    clock.advance(timedelta(days=2))
    kept = await approve(use_cases, await an_order(use_cases, pet))
    dropped = await approve(use_cases, await an_order(use_cases, pet))
    await use_cases.orders.cancel(ADMIN, CancelOrder(dropped.id, CancelReason.FRAUD))

    figures = await use_cases.overview.figures(ADMIN)

    assert len(figures.days) == DAYS
    today, two_days_ago = figures.days[-1], figures.days[-3]
    assert today.day == kept.created_at.date()
    assert (today.orders, today.cancelled) == (2, 1)
    assert today.revenue == {"USD": Money.parse("10.00", "USD")}  # two captured, one refunded, the same day
    assert (two_days_ago.day, two_days_ago.orders, two_days_ago.cancelled) == (today.day - timedelta(days=2), 1, 0)
    assert figures.orders == 3
    assert figures.cancel_reasons == {"FRAUD": 1}


async def test_days_without_orders_are_there_with_nothing_in_them(use_cases: UseCases) -> None:
    figures = await use_cases.overview.figures(ADMIN)

    assert [day.orders for day in figures.days] == [0] * DAYS
    assert figures.days[0].day == figures.days[-1].day - timedelta(days=DAYS - 1)
    assert isinstance(figures.days[0].day, date)
    assert figures.cancellation_rate == 0.0
    assert figures.refunds == {}
