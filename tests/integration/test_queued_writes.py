"""Writes whose results nobody reads wait for the transaction's next statement or its COMMIT (PostgreSQL, ADR 0034):
what a transaction sees and what it commits stay as if each had run at once. On SQLite they do run at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from orderline.application.audit import Action, AuditEntry, EntityType, Record
from orderline.application.errors import StaleVersion
from orderline.application.use_cases import UseCases
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.postgres import PostgresDatabase
from tests.conftest import _empty_postgres
from tests.support import ADMIN, Db, a_pet, an_order

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def an_entry(order_id: uuid.UUID) -> AuditEntry:
    return Record(Action.ORDER_SHIPPED, EntityType.ORDER, order_id, {}).entry(uuid.uuid4(), ADMIN, NOW)


async def stored(db: Db, entry: AuditEntry) -> bool:
    async with db.snapshot() as uow:
        return await uow.audit.get(entry.id) is not None


async def test_a_save_of_an_order_changed_since_it_was_read_is_refused_with_the_whole_transaction(
    use_cases: UseCases, db: Db
) -> None:
    order = await an_order(use_cases, await a_pet(use_cases, stock=1))
    entry = an_entry(order.id)

    async def save_what_was_read_after_someone_changed_it() -> None:
        async with db.transaction() as uow:
            read = await uow.orders.get(order.id)
            assert read is not None
            await uow.connection.execute("UPDATE orders SET version = version + 1 WHERE id = :id", {"id": order.id})
            await uow.audit.append(entry)
            await uow.orders.save(read)  # PostgreSQL: refused at the COMMIT, whose statement carries it
            await uow.commit()

    with pytest.raises(StaleVersion):
        await save_what_was_read_after_someone_changed_it()

    assert (await use_cases.orders.get(ADMIN, order.id)).version == order.version
    assert not await stored(db, entry)


async def test_a_write_is_seen_by_the_statements_after_it_in_its_transaction(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases, stock=1))
    entry = an_entry(order.id)

    async with db.transaction() as uow:
        await uow.audit.append(entry)
        seen = await uow.audit.get(entry.id)
        await uow.commit()

    assert seen == entry


async def test_writes_of_a_transaction_that_does_not_commit_are_gone(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases, stock=1))
    entry = an_entry(order.id)

    async with db.transaction() as uow:
        await uow.audit.append(entry)

    assert not await stored(db, entry)


async def test_a_transaction_of_writes_only_commits_them_all(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases, stock=1))
    entries = [an_entry(order.id), an_entry(order.id)]

    async with db.transaction() as uow:
        for entry in entries:
            await uow.audit.append(entry)
        await uow.commit()

    assert [await stored(db, entry) for entry in entries] == [True, True]


async def test_two_saves_of_one_order_in_a_transaction_both_take_effect(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases, stock=1))

    async with db.transaction() as uow:
        read = await uow.orders.get(order.id, for_update=True)
        assert read is not None
        for _ in range(2):
            read.version += 1
            await uow.orders.save(read)
        await uow.commit()

    assert (await use_cases.orders.get(ADMIN, order.id)).version == order.version + 2


async def test_locking_an_order_that_is_not_there_finds_nothing(db: Db) -> None:
    async with db.transaction() as uow:
        assert await uow.orders.get(uuid.uuid4(), for_update=True) is None


@pytest.mark.postgres
async def test_a_write_outside_a_transaction_runs_at_once(postgres_database: str) -> None:
    await _empty_postgres(postgres_database)
    database = await open_database(DatabaseUrl.parse(postgres_database))
    assert isinstance(database, PostgresDatabase)
    try:
        entry = an_entry(uuid.uuid4())

        async with database.lookup() as uow:  # one statement at a time, no BEGIN and no COMMIT
            await uow.audit.append(entry)

        assert await stored(database, entry)
    finally:
        await database.close()
