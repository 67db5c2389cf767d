"""Races on a real database: concurrent cancels and concurrent orders for the last units.

Each race runs across two separately wired use_cases on the same database, as two processes
would be, so SQLite's file lock and PostgreSQL's row locks are what keep the peace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from orderline.application.orders import CancelOrder, LineRequest, PlacedOrder, PlaceOrder
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.errors import OrderNotCancellable, OutOfStock
from orderline.domain.order import Order
from orderline.domain.status import OrderStatus
from tests.support import ADMIN, ANYONE, FAST_HASHER, a_pet, an_order


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[UseCases]:
    """Another process's view of the same database: its own connections and locks."""
    other = await build(settings, hasher=FAST_HASHER)
    try:
        yield other
    finally:
        await other.close()


async def test_twenty_concurrent_cancels_of_one_order_succeed_exactly_once(
    use_cases: UseCases, second: UseCases
) -> None:
    cat = await a_pet(use_cases, stock=1)
    order = await an_order(use_cases, cat)
    sides = [use_cases, second] * 10

    outcomes = await asyncio.gather(
        *(side.orders.cancel(ADMIN, CancelOrder(order.id)) for side in sides), return_exceptions=True
    )

    won = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, OrderNotCancellable)]
    assert (len(won), len(refused)) == (1, 19), outcomes
    assert all(r.details["current_status"] == "CANCELLED" for r in refused)
    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert (pet.stock.reserved, pet.stock.free) == (0, 1)
    assert (await use_cases.orders.get(ADMIN, order.id)).version == 2


async def test_concurrent_orders_for_scarce_stock_sell_exactly_the_stock(use_cases: UseCases, second: UseCases) -> None:
    rabbit = await a_pet(use_cases, "Mochi", stock=5)
    sides = [use_cases, second] * 10

    outcomes = await asyncio.gather(
        *(side.orders.place(ANYONE, PlaceOrder([LineRequest(rabbit.id)])) for side in sides),
        return_exceptions=True,
    )

    placed = [o.order for o in outcomes if isinstance(o, PlacedOrder)]
    refused = [o for o in outcomes if isinstance(o, OutOfStock)]
    assert (len(placed), len(refused)) == (5, 15), outcomes
    pet = await use_cases.catalogue.get_pet(PUBLIC, rabbit.id)
    assert (pet.stock.reserved, pet.stock.free) == (5, 0)
    assert len({o.seq for o in placed}) == 5


async def test_concurrent_cancels_and_orders_of_the_last_unit_never_oversell(
    use_cases: UseCases, second: UseCases
) -> None:
    cat = await a_pet(use_cases, stock=1)
    first = await an_order(use_cases, cat)

    outcomes = await asyncio.gather(
        use_cases.orders.cancel(ADMIN, CancelOrder(first.id)),
        *(side.orders.place(ANYONE, PlaceOrder([LineRequest(cat.id)])) for side in [second] * 5),
        return_exceptions=True,
    )

    placed = [o for o in outcomes[1:] if isinstance(o, PlacedOrder)]
    assert isinstance(outcomes[0], Order)
    assert outcomes[0].status is OrderStatus.CANCELLED
    assert len(placed) <= 1
    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert pet.stock.reserved == len(placed)
    assert pet.stock.free == 1 - len(placed)
