"""Pets and their stock: reserve, release, consume, resize, the derived status, and removal."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from orderline.domain.errors import InvalidOrder, OutOfStock, PetReserved, StockBelowCommitted
from orderline.domain.pet import Pet, PetStatus, Stock
from tests.unit.builders import LATER, NOW, a_pet, a_profile, an_id, usd


def test_free_stock_is_what_is_neither_reserved_nor_sold() -> None:
    stock = Stock(total=10, reserved=3, sold=2)

    assert stock.free == 5


def test_reserving_moves_free_units_to_reserved() -> None:
    stock = Stock(total=5, reserved=1)

    reserved = stock.reserve(3)

    assert reserved == Stock(total=5, reserved=4, sold=0)


def test_the_last_free_unit_can_be_reserved() -> None:
    stock = Stock(total=1)

    assert stock.reserve(1) == Stock(total=1, reserved=1)


def test_reserving_more_than_is_free_is_refused_with_the_counts() -> None:
    stock = Stock(total=5, reserved=2, sold=1)

    with pytest.raises(OutOfStock) as refused:
        stock.reserve(3)

    assert refused.value.details == {"free": 2, "requested": 3}


def test_releasing_moves_reserved_units_back_to_free() -> None:
    stock = Stock(total=5, reserved=3)

    released = stock.release(2)

    assert released == Stock(total=5, reserved=1)
    assert released.free == 4


def test_releasing_more_than_is_reserved_is_a_bug_not_a_refusal() -> None:
    stock = Stock(total=5, reserved=1)

    with pytest.raises(ValueError, match="only 1 reserved"):
        stock.release(2)


def test_consuming_turns_reserved_units_into_sold_ones() -> None:
    stock = Stock(total=5, reserved=3, sold=1)

    consumed = stock.consume(2)

    assert consumed == Stock(total=5, reserved=1, sold=3)
    assert consumed.free == stock.free


def test_consuming_more_than_is_reserved_is_a_bug_not_a_refusal() -> None:
    stock = Stock(total=5, reserved=1)

    with pytest.raises(ValueError, match="only 1 reserved"):
        stock.consume(2)


@pytest.mark.parametrize("quantity", [0, -1])
@pytest.mark.parametrize("move", ["reserve", "release", "consume"])
def test_a_stock_move_needs_a_positive_quantity(move: str, quantity: int) -> None:
    stock = Stock(total=5, reserved=5)

    with pytest.raises(InvalidOrder) as refused:
        getattr(stock, move)(quantity)

    assert refused.value.details == {"quantity": quantity}


@pytest.mark.parametrize("new_total", [4, 5, 20])
def test_stock_may_be_resized_down_to_what_is_reserved_and_sold(new_total: int) -> None:
    stock = Stock(total=10, reserved=3, sold=1)

    resized = stock.resized(new_total)

    assert resized == Stock(total=new_total, reserved=3, sold=1)


@pytest.mark.parametrize("new_total", [3, 0, -1])
def test_stock_cannot_be_resized_below_what_is_reserved_and_sold(new_total: int) -> None:
    stock = Stock(total=10, reserved=3, sold=1)

    with pytest.raises(StockBelowCommitted) as refused:
        stock.resized(new_total)

    assert refused.value.details == {"requested": new_total, "reserved": 3, "sold": 1}


def test_stock_with_nothing_committed_cannot_be_resized_below_zero() -> None:
    with pytest.raises(StockBelowCommitted):
        Stock(total=3).resized(-1)


@pytest.mark.parametrize(
    ("stock", "status"),
    [
        pytest.param(Stock(total=1), PetStatus.AVAILABLE, id="one-free"),
        pytest.param(Stock(total=3, reserved=1, sold=1), PetStatus.AVAILABLE, id="some-free"),
        pytest.param(Stock(total=1, reserved=1), PetStatus.PENDING, id="all-reserved"),
        pytest.param(Stock(total=3, reserved=1, sold=2), PetStatus.PENDING, id="reserved-and-sold"),
        pytest.param(Stock(total=1, sold=1), PetStatus.ADOPTED, id="all-sold"),
        pytest.param(Stock(total=0), PetStatus.ADOPTED, id="no-stock"),
    ],
)
def test_a_pets_status_follows_its_stock(stock: Stock, status: PetStatus) -> None:
    pet = a_pet()
    pet.stock = stock

    assert pet.status is status


def test_a_pet_with_stock_one_goes_available_pending_adopted() -> None:
    pet = a_pet(stock=1)
    seen = [pet.status]

    pet.reserve(1, NOW)
    seen.append(pet.status)
    pet.consume(1, LATER)
    seen.append(pet.status)

    assert seen == [PetStatus.AVAILABLE, PetStatus.PENDING, PetStatus.ADOPTED]


def test_a_released_pet_is_available_again() -> None:
    pet = a_pet(stock=1, reserved=1)

    pet.release(1, LATER)

    assert pet.status is PetStatus.AVAILABLE


PetChange = Callable[[Pet], None]

CHANGES: list[object] = [
    pytest.param(lambda pet: pet.reserve(1, LATER), Stock(3, 2, 0), id="reserve"),
    pytest.param(lambda pet: pet.release(1, LATER), Stock(3, 0, 0), id="release"),
    pytest.param(lambda pet: pet.consume(1, LATER), Stock(3, 0, 1), id="consume"),
    pytest.param(lambda pet: pet.revise(a_profile("Tom"), 5, LATER), Stock(5, 1, 0), id="revise"),
]


@pytest.mark.parametrize(("change", "stock"), CHANGES)
def test_a_change_to_a_pet_moves_its_stock_bumps_its_version_and_stamps_it(change: PetChange, stock: Stock) -> None:
    pet = a_pet(stock=3, reserved=1)

    change(pet)

    assert (pet.stock, pet.version, pet.updated_at, pet.created_at) == (stock, 2, LATER, NOW)


def test_a_revision_replaces_the_profile() -> None:
    pet = a_pet(stock=3)
    profile = a_profile("Tom", fee=usd("99.00"))

    pet.revise(profile, 3, LATER)

    assert pet.profile == profile


def test_reserving_more_than_is_free_names_the_pet() -> None:
    pet = a_pet(stock=2, reserved=1, id=7)

    with pytest.raises(OutOfStock) as refused:
        pet.reserve(2, LATER)

    assert refused.value.details == {"pet_id": str(an_id(7)), "free": 1, "requested": 2}
    assert str(an_id(7)) in refused.value.message


REFUSED_CHANGES: list[object] = [
    pytest.param(lambda pet: pet.reserve(2, LATER), OutOfStock, id="reserve-more-than-free"),
    pytest.param(lambda pet: pet.reserve(0, LATER), InvalidOrder, id="reserve-nothing"),
    pytest.param(lambda pet: pet.release(2, LATER), ValueError, id="release-more-than-reserved"),
    pytest.param(lambda pet: pet.consume(2, LATER), ValueError, id="consume-more-than-reserved"),
    pytest.param(lambda pet: pet.revise(a_profile("Tom"), 1, LATER), StockBelowCommitted, id="resize-below-committed"),
]


@pytest.mark.parametrize(("change", "error"), REFUSED_CHANGES)
def test_a_refused_change_leaves_the_pet_unchanged(change: PetChange, error: type[Exception]) -> None:
    pet = a_pet(stock=3, reserved=1, sold=1)
    before = copy.deepcopy(pet)

    with pytest.raises(error):
        change(pet)

    assert pet == before


@pytest.mark.parametrize("stock", [Stock(total=1), Stock(total=0), Stock(total=3, sold=3), Stock(total=3, sold=1)])
def test_a_pet_that_no_open_order_holds_may_be_removed(stock: Stock) -> None:
    pet = a_pet()
    pet.stock = stock

    pet.ensure_removable()


def test_a_pet_held_by_an_open_order_cannot_be_removed() -> None:
    pet = a_pet(stock=3, reserved=2)

    with pytest.raises(PetReserved) as refused:
        pet.ensure_removable()

    assert refused.value.details == {"reserved": 2}
