"""Several pets' stock moved at once (``PetRepository.shift_stocks``), on each engine: one statement on PostgreSQL,
a conditional UPDATE per pet on SQLite, with the same outcome: each pet found is locked (in id order) and moved by
its quantity if its counters stay within its stock; a pet refused (or asked for less than a unit) comes back as it
is, locked and unmoved, for the domain to refuse; a pet that is not there is left out.

On PostgreSQL the lock order is the statement's own (``ORDER BY id FOR UPDATE``), whatever order the pets are
asked in: the tests below hold one pet's lock from another transaction and look at what the statement waiting
behind it has locked, and race two transactions that move the same two pets asked in opposite orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID

import pytest

from orderline.application.errors import DatabaseUnavailable
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.domain.pet import Pet
from tests.support import ADMIN, FAST_HASHER, Db, a_pet, engine_settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MISSING = UUID(int=0xDEAD)  # no pet's id
OTHER_TENANT = UUID(int=0xB6)


async def shift(
    db: Db, quantities: Mapping[UUID, int], *, reserved: int = 1, sold: int = 0, include_removed: bool = False,
    tenant: UUID = PUBLIC,
) -> tuple[dict[UUID, Pet], set[UUID]]:  # fmt: skip
    """One committed transaction that shifts ``quantities`` (reserved and sold per unit)."""
    async with db.transaction(tenant) as uow:
        moved = await uow.pets.shift_stocks(
            quantities, reserved=reserved, sold=sold, now=NOW, include_removed=include_removed
        )
        await uow.commit()
    return moved


async def stored(db: Db, pet_id: UUID) -> Pet:
    async with db.transaction() as uow:
        found = await uow.pets.get_many([pet_id], include_removed=True)
    return found[pet_id]


def counters(pet: Pet) -> tuple[int, int, int]:
    return pet.stock.reserved, pet.stock.sold, pet.version


async def test_every_pet_moves_by_its_quantity_and_comes_back_as_it_is_after(use_cases: UseCases, db: Db) -> None:
    cat, fish = await a_pet(use_cases, "Whiskers", stock=5), await a_pet(use_cases, "Nemo", stock=3)

    pets, refused = await shift(db, {cat.id: 2, fish.id: 3})

    assert refused == set()
    assert {pet_id: counters(pet) for pet_id, pet in pets.items()} == {
        cat.id: (2, 0, cat.version + 1),
        fish.id: (3, 0, fish.version + 1),
    }
    assert pets[cat.id].updated_at == NOW
    assert pets == {cat.id: await stored(db, cat.id), fish.id: await stored(db, fish.id)}


async def test_released_and_consumed_units_move_both_counters(use_cases: UseCases, db: Db) -> None:
    cat, fish = await a_pet(use_cases, "Whiskers", stock=5), await a_pet(use_cases, "Nemo", stock=5)
    await shift(db, {cat.id: 3, fish.id: 3})

    released, _ = await shift(db, {cat.id: 2}, reserved=-1)
    consumed, _ = await shift(db, {fish.id: 2}, reserved=-1, sold=1)

    assert counters(released[cat.id])[:2] == (1, 0)
    assert counters(consumed[fish.id])[:2] == (1, 2)


@pytest.mark.parametrize(
    ("reserved", "sold", "quantity"),
    [
        pytest.param(1, 0, 3, id="reserving more than is free"),
        pytest.param(-1, 0, 2, id="releasing more than is reserved"),
        pytest.param(-1, 1, 2, id="consuming more than is reserved"),
    ],
)
async def test_a_pet_whose_counters_would_leave_its_stock_is_refused_locked_and_unmoved_beside_the_others(
    use_cases: UseCases, db: Db, reserved: int, sold: int, quantity: int
) -> None:
    scarce, plenty = await a_pet(use_cases, "Mochi", stock=2), await a_pet(use_cases, "Rex", stock=9)
    await shift(db, {scarce.id: 1, plenty.id: 3})
    before = await stored(db, scarce.id)

    pets, refused = await shift(db, {scarce.id: quantity, plenty.id: 1}, reserved=reserved, sold=sold)

    assert refused == {scarce.id}
    assert pets[scarce.id] == before == await stored(db, scarce.id)
    assert counters(pets[plenty.id]) == (3 + reserved, sold, before.version + 1)


@pytest.mark.parametrize("quantity", [0, -1])
async def test_a_quantity_below_one_is_never_moved_and_its_pet_is_refused(
    use_cases: UseCases, db: Db, quantity: int
) -> None:
    cat, fish = await a_pet(use_cases, "Whiskers", stock=5), await a_pet(use_cases, "Nemo", stock=5)
    await shift(db, {cat.id: 2})  # so that moving -1 unit would pass the counters' check
    before = await stored(db, cat.id)

    pets, refused = await shift(db, {cat.id: quantity, fish.id: 1})

    assert refused == {cat.id}
    assert pets[cat.id] == before == await stored(db, cat.id)


async def test_a_pet_that_is_not_there_is_left_out(use_cases: UseCases, db: Db) -> None:
    cat = await a_pet(use_cases, stock=5)

    pets, refused = await shift(db, {MISSING: 1, cat.id: 1})

    assert (set(pets), refused) == ({cat.id}, set())


async def test_a_removed_pet_is_left_out_unless_removed_pets_are_asked_for(use_cases: UseCases, db: Db) -> None:
    gone = await a_pet(use_cases, "Gone", stock=5)
    await use_cases.catalogue.remove_pet(ADMIN, gone.id)

    left_out = await shift(db, {gone.id: 1})
    pets, refused = await shift(db, {gone.id: 1}, include_removed=True)

    assert left_out == ({}, set())
    assert (counters(pets[gone.id])[:2], refused) == ((1, 0), set())


async def test_another_tenants_pet_is_left_out_and_untouched(use_cases: UseCases, db: Db) -> None:
    cat = await a_pet(use_cases, stock=5)

    assert await shift(db, {cat.id: 1}, tenant=OTHER_TENANT) == ({}, set())
    assert await stored(db, cat.id) == cat


async def test_moved_refused_missing_removed_and_zero_in_one_call(use_cases: UseCases, db: Db) -> None:
    moved, short = await a_pet(use_cases, "Moved", stock=5), await a_pet(use_cases, "Short", stock=1)
    removed, zero = await a_pet(use_cases, "Removed", stock=5), await a_pet(use_cases, "Zero", stock=5)
    await use_cases.catalogue.remove_pet(ADMIN, removed.id)

    pets, refused = await shift(db, {zero.id: 0, removed.id: 1, MISSING: 2, short.id: 2, moved.id: 4})

    assert refused == {short.id, zero.id}
    assert set(pets) == {moved.id, short.id, zero.id}
    assert counters(pets[moved.id]) == (4, 0, moved.version + 1)
    assert (pets[short.id], pets[zero.id]) == (short, zero)
    assert list(pets) == sorted(pets)  # in the lock order, as they were loaded


async def test_the_pets_come_back_with_the_versions_a_later_save_compares_against(use_cases: UseCases, db: Db) -> None:
    moved, short = await a_pet(use_cases, "Moved", stock=5), await a_pet(use_cases, "Short", stock=1)

    async with db.transaction() as uow:
        pets, refused = await uow.pets.shift_stocks(
            {moved.id: 1, short.id: 2}, reserved=1, sold=0, now=NOW, include_removed=False
        )
        pets[moved.id].reserve(1, NOW)
        pets[short.id].reserve(1, NOW)
        await uow.pets.save(pets[moved.id])  # StaleVersion if the version remembered were not the one after
        await uow.pets.save(pets[short.id])
        await uow.commit()

    assert refused == {short.id}
    assert counters(await stored(db, moved.id)) == (2, 0, moved.version + 2)
    assert counters(await stored(db, short.id)) == (1, 0, short.version + 1)


async def test_no_pets_asked_is_nothing_moved(db: Db) -> None:
    assert await shift(db, {}) == ({}, set())


# PostgreSQL: the lock order is the statement's, whatever the order of the pets asked.


@asynccontextmanager
async def holding(db: Db, pet_id: UUID) -> AsyncIterator[None]:
    """Another transaction holds ``pet_id``'s row lock until the block ends (then it commits)."""
    async with db.transaction() as uow:
        assert pet_id in await uow.pets.get_many([pet_id], for_update=True)
        yield
        await uow.commit()


async def waiting_on_a_lock(db: Db, count: int) -> None:
    """Until ``count`` statements of this database wait for a row lock (shift_stocks' statements, here)."""
    async with db.lookup() as uow:
        for _ in range(500):
            row = await uow.connection.fetch_one(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE '%unnest%'"
            )
            assert row is not None
            if row["n"] >= count:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"{count} statement(s) never waited for a lock")


async def is_locked(db: Db, pet_id: UUID) -> bool:
    async with db.transaction() as uow:
        try:
            await uow.connection.fetch_one("SELECT 1 FROM pets WHERE id = :id FOR UPDATE NOWAIT", {"id": pet_id})
        except DatabaseUnavailable:  # lock_not_available
            return True
    return False


async def two_pets_in_id_order(use_cases: UseCases) -> tuple[Pet, Pet]:
    first, second = await a_pet(use_cases, "A", stock=1000), await a_pet(use_cases, "B", stock=1000)
    low, high = sorted([first, second], key=lambda pet: pet.id)
    return low, high


@pytest.mark.postgres
@pytest.mark.parametrize("held", ["lower id", "higher id"])
async def test_a_statement_locks_the_pets_in_id_order_whatever_order_they_are_asked_in(
    postgres_use_cases: UseCases, postgres_db: Db, held: str
) -> None:
    low, high = await two_pets_in_id_order(postgres_use_cases)
    held_pet, other = (low, high) if held == "lower id" else (high, low)

    async with holding(postgres_db, held_pet.id):
        waiting = asyncio.create_task(shift(postgres_db, {high.id: 1, low.id: 1}))  # asked higher id first
        await waiting_on_a_lock(postgres_db, 1)
        other_locked = await is_locked(postgres_db, other.id)
    await waiting

    # Waiting for the lower id, it has locked nothing yet; waiting for the higher, it holds the lower.
    assert other_locked is (held == "higher id")
    assert counters(await stored(postgres_db, low.id))[0] == counters(await stored(postgres_db, high.id))[0] == 1


@pytest.mark.postgres
async def test_two_transactions_queued_behind_a_lock_with_the_pets_in_opposite_orders_do_not_deadlock(
    postgres_use_cases: UseCases, postgres_db: Db
) -> None:
    """Were either to lock its first-asked pet first, the one asking (higher, lower) would hold the higher id
    while waiting for the lower, which the other gets first (it queued first): a deadlock, every time."""
    low, high = await two_pets_in_id_order(postgres_use_cases)

    async with holding(postgres_db, low.id):
        first = asyncio.create_task(shift(postgres_db, {low.id: 1, high.id: 1}))
        await waiting_on_a_lock(postgres_db, 1)
        second = asyncio.create_task(shift(postgres_db, {high.id: 1, low.id: 1}))
        await waiting_on_a_lock(postgres_db, 2)
    outcomes = await asyncio.gather(first, second, return_exceptions=True)

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    assert counters(await stored(postgres_db, low.id))[0] == counters(await stored(postgres_db, high.id))[0] == 2


RACES = 200


@pytest.mark.postgres
async def test_concurrent_transactions_moving_two_pets_in_opposite_orders_never_deadlock(
    postgres_use_cases: UseCases, postgres_db: Db
) -> None:
    low, high = await two_pets_in_id_order(postgres_use_cases)

    async def move(quantities: dict[UUID, int], reserved: int) -> None:
        async with postgres_db.transaction() as uow:
            await uow.pets.shift_stocks(quantities, reserved=reserved, sold=0, now=NOW, include_removed=False)
            await asyncio.sleep(0)  # let the other side's statement start before this one commits
            await uow.commit()

    for _ in range(RACES):
        outcomes = await asyncio.gather(
            move({low.id: 1, high.id: 2}, 1), move({high.id: 2, low.id: 1}, 1), return_exceptions=True
        )
        assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes

    assert (counters(await stored(postgres_db, low.id))[0], counters(await stored(postgres_db, high.id))[0]) == (
        2 * RACES,
        4 * RACES,
    )


@pytest.mark.postgres
async def test_the_statement_keeps_its_generic_plan_instead_of_planning_each_execution(
    postgres_use_cases: UseCases, postgres_db: Db
) -> None:
    """Planned for each execution, the statement costs the server about 0.25 ms more than it runs for."""
    low, high = await two_pets_in_id_order(postgres_use_cases)

    async with postgres_db.transaction() as uow:
        for _ in range(10):  # PostgreSQL weighs a generic plan after five custom ones
            await uow.pets.shift_stocks({low.id: 1, high.id: 1}, reserved=1, sold=0, now=NOW, include_removed=False)
        plans = await uow.connection.fetch_one(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%WITH locked AS%' AND statement NOT LIKE '%pg_prepared_statements%'"
        )

    assert plans is not None
    assert (plans["generic_plans"], plans["custom_plans"]) == (5, 5)


@pytest.fixture
async def postgres_use_cases(postgres_url: str) -> AsyncIterator[UseCases]:
    wired = await build(engine_settings(postgres_url, refund_poll_seconds=0), hasher=FAST_HASHER)
    try:
        yield wired
    finally:
        await wired.close()
