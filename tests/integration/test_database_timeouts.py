"""No wait on the database outlasts the statement timeout, on either engine: each ends in DatabaseUnavailable.

The bounds asserted are generous (ten times the timeout and more): the behaviour is "does not hang",
not a speed. The HTTP tests (tests/e2e/test_database_timeouts_api.py) show what a client then sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from orderline.application.errors import DatabaseUnavailable
from orderline.application.use_cases import UseCases
from orderline.storage.database import DatabaseUrl, open_database
from tests.support import Db, a_pet

TIMEOUT = 0.3
BOUND = 10 * TIMEOUT + 2  # generous; PostgreSQL's client-side bound is the timeout plus a second

# A statement that runs for minutes unless stopped: counting to a billion, or sleeping.
SLOW_STATEMENT = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1000000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(600)",
}


@asynccontextmanager
async def impatient(database_url: str, pool_size: int = 2) -> AsyncIterator[Db]:
    """The test's database opened with a short statement timeout (``pool_size`` 1: one reader on SQLite)."""
    database = await open_database(DatabaseUrl.parse(database_url), pool_size=pool_size, statement_timeout=TIMEOUT)
    try:
        yield database
    finally:
        await database.close()


async def test_a_statement_that_runs_longer_than_the_timeout_is_stopped(database_url: str) -> None:
    async with impatient(database_url) as db:
        started = time.monotonic()

        with pytest.raises(DatabaseUnavailable, match=f"did not answer within {TIMEOUT:g} s") as refused:
            async with db.snapshot() as uow:
                await uow.connection.fetch_one(SLOW_STATEMENT[uow.connection.dialect])

    assert time.monotonic() - started < BOUND
    assert refused.value.retry_after == 1


async def test_the_connection_of_a_stopped_statement_serves_the_next_one(database_url: str) -> None:
    async with impatient(database_url, pool_size=1) as db:
        with pytest.raises(DatabaseUnavailable):
            async with db.snapshot() as uow:
                await uow.connection.fetch_one(SLOW_STATEMENT[uow.connection.dialect])

        async with db.snapshot() as uow:
            row = await uow.connection.fetch_one("SELECT 1 AS one")

    assert row is not None
    assert row["one"] == 1


async def test_a_write_stopped_by_the_timeout_changes_nothing(database_url: str, use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, "Rex", stock=3)

    async def restock_slowly(db: Db) -> None:
        async with db.transaction() as uow:
            locked = await uow.pets.get(pet.id, for_update=True)
            assert locked is not None
            locked.revise(locked.profile, 7, datetime.now(UTC))
            await uow.pets.save(locked)
            await uow.connection.fetch_one(SLOW_STATEMENT[uow.connection.dialect])
            await uow.commit()

    async with impatient(database_url) as db:
        with pytest.raises(DatabaseUnavailable):
            await restock_slowly(db)

        async with db.snapshot() as uow:
            stored = await uow.pets.get(pet.id)

    assert stored is not None
    assert stored.stock.total == 3


async def test_a_write_waits_at_most_the_timeout_behind_a_slow_write_of_the_same_pet(
    database_url: str, use_cases: UseCases
) -> None:
    """SQLite: the writer lock of this process. PostgreSQL: the pet's row lock (lock_timeout)."""
    pet = await a_pet(use_cases, "Rex")
    holding, release = asyncio.Event(), asyncio.Event()

    async with impatient(database_url) as db:

        async def slow_write() -> None:
            async with db.transaction() as uow:
                await uow.pets.get(pet.id, for_update=True)
                holding.set()
                await release.wait()

        slow = asyncio.create_task(slow_write())
        try:
            await holding.wait()
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=f"did not answer within {TIMEOUT:g} s"):
                async with db.transaction() as uow:
                    await uow.pets.get(pet.id, for_update=True)
            waited = time.monotonic() - started
        finally:
            release.set()
            await slow

    assert TIMEOUT * 0.9 <= waited < BOUND


async def test_the_next_write_after_a_slow_one_goes_through(database_url: str, use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, "Rex")

    async with impatient(database_url) as db:
        async with db.transaction() as uow:
            await uow.pets.get(pet.id, for_update=True)
            await asyncio.sleep(TIMEOUT * 2)  # slower than the timeout, but no single wait is
            await uow.commit()

        async with db.transaction() as uow:
            again = await uow.pets.get(pet.id, for_update=True)

    assert again is not None


async def test_waiting_for_a_free_connection_ends_at_the_timeout(database_url: str) -> None:
    async with impatient(database_url, pool_size=1) as db, db.snapshot():
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="waiting for a connection"):
            await db.ping()
        waited = time.monotonic() - started

    assert TIMEOUT * 0.9 <= waited < BOUND
