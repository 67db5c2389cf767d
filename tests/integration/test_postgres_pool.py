"""The PostgreSQL adapter's own pool (ADR 0044): connections reused, a cancelled statement's connection dropped,
an open transaction never handed to the next borrower, closing waits for the connections lent out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.postgres import PostgresDatabase
from tests.conftest import _empty_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(postgres_database: str) -> AsyncIterator[PostgresDatabase]:
    await _empty_postgres(postgres_database)
    opened = await open_database(DatabaseUrl.parse(postgres_database), pool_size=1, statement_timeout=2.0)
    assert isinstance(opened, PostgresDatabase)
    try:
        yield opened
    finally:
        await opened.close()


async def _backend(database: PostgresDatabase) -> int:
    async with database.lookup() as uow:
        row = await uow.connection.fetch_one("SELECT pg_backend_pid() AS pid")
    assert row is not None
    return int(row["pid"])


async def test_units_of_work_one_after_another_share_one_connection(database: PostgresDatabase) -> None:
    first = await _backend(database)

    assert [await _backend(database) for _ in range(5)] == [first] * 5
    assert database.usage().idle == 1
    assert database.usage().in_use == 0


async def test_more_units_of_work_at_once_than_connections_all_finish_on_at_most_the_pools_connections(
    postgres_database: str,
) -> None:
    opened = await open_database(DatabaseUrl.parse(postgres_database), pool_size=2, statement_timeout=2.0)
    assert isinstance(opened, PostgresDatabase)
    try:
        pids = await asyncio.gather(*(_backend(opened) for _ in range(40)))
        usage = opened.usage()
    finally:
        await opened.close()

    assert 1 <= len(set(pids)) <= 2
    assert usage.in_use == 0
    assert usage.idle == len(set(pids))


async def test_a_unit_of_work_cancelled_in_its_statement_leaves_a_working_connection_for_the_next(
    database: PostgresDatabase,
) -> None:
    entered = asyncio.Event()

    async def sleeps() -> None:
        async with database.transaction() as uow:
            await uow.connection.fetch_one("SELECT 1")
            entered.set()
            await uow.connection.fetch_one("SELECT pg_sleep(60)")

    task = asyncio.create_task(sleeps())
    await entered.wait()
    await asyncio.sleep(0.05)  # the sleep is on the wire
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with asyncio.timeout(2):  # the one connection, not waiting on a cancelled statement
        pid = await _backend(database)
    assert pid > 0
    assert database.usage().in_use == 0


async def test_a_transaction_left_open_is_rolled_back_before_the_connection_is_lent_again(
    database: PostgresDatabase,
) -> None:
    first = await _backend(database)
    async with database.lookup() as uow:  # no transaction of ours: BEGIN sent by hand and never ended
        await uow.connection.execute("BEGIN")
        await uow.connection.execute("CREATE TEMPORARY TABLE left_open (x int)")

    async with database.lookup() as uow:
        row = await uow.connection.fetch_one(
            "SELECT pg_backend_pid() AS pid, to_regclass('pg_temp.left_open') IS NULL AS gone"
        )

    assert row is not None
    assert row["pid"] == first  # the same connection, lent again
    assert row["gone"]  # its table rolled back with the transaction, not committed nor still open


async def test_closing_waits_for_the_connection_lent_out(postgres_database: str) -> None:
    opened = await open_database(DatabaseUrl.parse(postgres_database), pool_size=1, statement_timeout=2.0)
    assert isinstance(opened, PostgresDatabase)
    done: list[str] = []

    async def reads() -> None:
        async with opened.lookup() as uow:
            await uow.connection.fetch_one("SELECT pg_sleep(0.2)")
            done.append("read")

    task = asyncio.create_task(reads())
    await asyncio.sleep(0.05)
    await opened.close()
    done.append("closed")
    await task

    assert done == ["read", "closed"]


async def test_an_idle_connection_the_server_closed_is_dropped_and_replaced(
    database: PostgresDatabase, postgres_database: str
) -> None:
    first = await _backend(database)
    other = await asyncpg.connect(postgres_database)
    try:
        await other.execute("SELECT pg_terminate_backend($1)", first)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the closed socket is seen by the loop

    second = await _backend(database)

    assert second != first
    assert database.usage().idle == 1
