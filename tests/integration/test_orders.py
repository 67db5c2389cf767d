"""Order use cases on a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from orderline.application.errors import InvalidInput, NotFound, PetNotFound
from orderline.application.orders import CancelOrder, LineRequest, OrderFilter, PlaceOrder
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.domain.errors import CurrencyMismatch, OrderNotCancellable, OutOfStock, TotalMismatch
from orderline.domain.order import CancelReason
from orderline.domain.pet import PetStatus
from orderline.domain.status import OrderStatus
from tests.support import ADMIN, ANYONE, a_pet, an_order, in_status


async def test_a_placed_order_snapshots_prices_and_reserves_stock(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, "Whiskers", stock=3, fee="150.00")
    fish = await a_pet(use_cases, "Nemo", stock=10, fee="12.50")

    placed = await use_cases.orders.place(
        ANYONE, PlaceOrder([LineRequest(cat.id, 2), LineRequest(fish.id, 1)], note="gift")
    )

    order = placed.order
    stored = await use_cases.orders.get(ADMIN, order.id)
    assert stored == order
    assert str(stored.total) == "312.50"
    assert [(line.name, str(line.unit_price), line.quantity) for line in stored.lines] == [
        ("Whiskers", "150.00", 2),
        ("Nemo", "12.50", 1),
    ]
    assert stored.status is OrderStatus.PLACED
    assert (await use_cases.catalogue.get_pet(PUBLIC, cat.id)).stock.reserved == 2


async def test_order_numbers_follow_each_other(use_cases: UseCases) -> None:
    fish = await a_pet(use_cases, "Nemo", stock=5)

    numbers = [(await an_order(use_cases, fish)).number for _ in range(3)]

    assert numbers == ["1001", "1002", "1003"]


async def test_an_order_for_an_unknown_pet_is_refused_and_changes_nothing(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, stock=1)
    unknown = uuid.UUID(int=7)

    with pytest.raises(PetNotFound):
        await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(cat.id), LineRequest(unknown)]))

    assert (await use_cases.catalogue.get_pet(PUBLIC, cat.id)).stock.reserved == 0
    assert (await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=10)).items == []


async def test_an_order_beyond_the_free_stock_is_refused_and_reserves_nothing(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, "Whiskers", stock=1)
    fish = await a_pet(use_cases, "Nemo", stock=5)

    with pytest.raises(OutOfStock) as refused:
        await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(fish.id, 2), LineRequest(cat.id, 2)]))

    assert refused.value.details["pet_id"] == str(cat.id)
    assert (await use_cases.catalogue.get_pet(PUBLIC, fish.id)).stock.reserved == 0
    assert (await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=10)).items == []


async def test_a_client_total_that_disagrees_with_the_catalogue_is_refused(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, fee="150.00")

    with pytest.raises(TotalMismatch):
        await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(cat.id)], expected_total="100.00"))

    assert (await use_cases.catalogue.get_pet(PUBLIC, cat.id)).stock.reserved == 0


async def test_an_order_in_another_currency_than_the_prices_is_refused(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, fee="150.00", currency="USD")

    with pytest.raises(CurrencyMismatch):
        await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(cat.id)], currency="EUR"))


async def test_a_removed_pet_cannot_be_ordered(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases)
    await use_cases.catalogue.remove_pet(ADMIN, cat.id)

    with pytest.raises(PetNotFound):
        await an_order(use_cases, cat)


@pytest.mark.parametrize("status", ["PLACED", "APPROVED"])
async def test_cancelling_releases_the_reserved_stock_and_records_the_reason(use_cases: UseCases, status: str) -> None:
    cat = await a_pet(use_cases, stock=1)
    order = await in_status(use_cases, cat, status)

    cancelled = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id, CancelReason.DUPLICATE, "placed twice"))

    stored = await use_cases.orders.get(ADMIN, order.id)
    assert stored == cancelled
    assert stored.status is OrderStatus.CANCELLED
    assert (stored.cancel_reason, stored.cancel_note) == (CancelReason.DUPLICATE, "placed twice")
    assert stored.cancelled_at is not None
    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert (pet.stock.reserved, pet.status) == (0, PetStatus.AVAILABLE)


@pytest.mark.parametrize("status", ["SHIPPED", "DELIVERED", "CANCELLED"])
async def test_an_order_past_approval_cannot_be_cancelled_and_nothing_changes(use_cases: UseCases, status: str) -> None:
    cat = await a_pet(use_cases, stock=2)
    order = await in_status(use_cases, cat, status)
    pet_before = await use_cases.catalogue.get_pet(PUBLIC, cat.id)

    with pytest.raises(OrderNotCancellable) as refused:
        await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))

    assert refused.value.details["current_status"] == status
    assert await use_cases.orders.get(ADMIN, order.id) == order
    assert await use_cases.catalogue.get_pet(PUBLIC, cat.id) == pet_before


async def test_shipping_turns_reserved_units_into_sold_ones(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, stock=1)

    await in_status(use_cases, cat, "SHIPPED")

    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert (pet.stock.reserved, pet.stock.sold, pet.status) == (0, 1, PetStatus.ADOPTED)


async def test_cancelling_an_unknown_order_is_not_found(use_cases: UseCases) -> None:
    with pytest.raises(NotFound):
        await use_cases.orders.cancel(ADMIN, CancelOrder(uuid.UUID(int=1)))


async def test_orders_list_newest_first_in_keyset_pages(use_cases: UseCases) -> None:
    fish = await a_pet(use_cases, "Nemo", stock=10)
    placed = [await an_order(use_cases, fish) for _ in range(5)]

    first = await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=2)
    second = await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=2, cursor=first.next_cursor)
    third = await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=2, cursor=second.next_cursor)

    seen = [o.id for o in first.items + second.items + third.items]
    assert seen == [o.id for o in reversed(placed)]
    assert third.next_cursor is None


async def test_orders_filter_by_status_and_creation_time(use_cases: UseCases) -> None:
    fish = await a_pet(use_cases, "Nemo", stock=10)
    early, middle, late = [await an_order(use_cases, fish) for _ in range(3)]
    await use_cases.orders.cancel(ADMIN, CancelOrder(middle.id))

    cancelled = await use_cases.orders.list_all(ADMIN, OrderFilter(status=OrderStatus.CANCELLED), limit=10)
    window = await use_cases.orders.list_all(
        ADMIN, OrderFilter(created_after=early.created_at, created_before=late.created_at), limit=10
    )

    assert [o.id for o in cancelled.items] == [middle.id]
    assert [o.id for o in window.items] == [middle.id, early.id]


async def test_a_cursor_from_elsewhere_is_refused(use_cases: UseCases) -> None:
    pets_cursor = "eyJrIjoicGV0cyIsInYiOiJ4In0"

    with pytest.raises(InvalidInput):
        await use_cases.orders.list_all(ADMIN, OrderFilter(), limit=2, cursor=pets_cursor)
