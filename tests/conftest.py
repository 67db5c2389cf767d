"""Test fixtures shared by every tier: a fresh, migrated database on each engine, and the wired use_cases.

The PostgreSQL tier uses ORDERLINE_TEST_POSTGRES_URL (default: the local server's `test` database).
Outside CI a missing server skips that tier with a message; with CI=true it fails the run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.migrate import upgrade
from orderline.storage.schema import metadata
from tests.support import ENGINES, FAST_HASHER, TEST_GATEWAY_SECRET, Db, SteppingClock, engine_settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Every row, children before their parents. DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new
# files for every table and index (~400 ms for all of them, against ~30 ms), which every PostgreSQL test paid.
EMPTY_EVERY_TABLE = "; ".join(f"DELETE FROM {table.name}" for table in reversed(metadata.sorted_tables))


def _postgres_admin_url() -> str:
    return os.environ.get("ORDERLINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


async def _reachable(url: str) -> str | None:
    try:
        connection = await asyncpg.connect(url, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The admin URL of a reachable PostgreSQL server, or a skip (a failure in CI)."""
    url = _postgres_admin_url()
    problem = asyncio.run(_reachable(url))
    if problem is not None:
        message = (
            f"PostgreSQL tier not run: cannot connect to {url} ({problem}). "
            "Start it with scripts/pg-start or set ORDERLINE_TEST_POSTGRES_URL."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    """A database of our own on the server, migrated once per session and dropped afterwards."""
    name = f"orderline_test_{os.getpid()}"
    admin = postgres_server_url

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
    url = str(DatabaseUrl.parse(admin).target.rsplit("/", 1)[0] + "/" + name)
    upgrade(DatabaseUrl.parse(url))
    yield url
    asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite file at the newest schema; each test copies it (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "orderline.db"
    upgrade(DatabaseUrl("sqlite", str(path)))
    return path


async def _empty_postgres(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"{EMPTY_EVERY_TABLE}; ALTER SEQUENCE order_seq RESTART WITH 1")
    finally:
        await connection.close()


@pytest.fixture(params=ENGINES)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Make a migrated, empty database on the engine of this run; call again for another empty one.

    Synchronous on purpose: migrations and resets run their own event loop, outside the test's.
    """
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        made = itertools.count()

        def fresh_sqlite() -> str:
            path = tmp_path / f"orderline-{next(made)}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"

        return fresh_sqlite
    url: str = request.getfixturevalue("postgres_database")

    def fresh_postgres() -> str:
        asyncio.run(_empty_postgres(url))
        return url

    return fresh_postgres


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied: for a test of what only PostgreSQL has (row locks, plans kept
    per statement, functions of ours), which runs there alone."""
    asyncio.run(_empty_postgres(postgres_database))
    return postgres_database


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Db]:
    """The emptied PostgreSQL database, opened on its own (as ``db`` is on each engine)."""
    database = await open_database(DatabaseUrl.parse(postgres_url))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def database_url(fresh_database: Callable[[], str]) -> str:
    """A migrated, empty database on each engine in turn."""
    return fresh_database()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """No refund poller in the background: tests settle refunds when they choose (one e2e test runs it).
    Webhooks may go to private addresses, so local receivers work and no test asks a DNS server."""
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, webhooks_allow_private=True
    )


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    """The test's database, opened on its own, for tests that inspect what the use cases stored."""
    database = await open_database(DatabaseUrl.parse(database_url))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def use_cases(settings: Settings, clock: SteppingClock) -> AsyncIterator[UseCases]:
    wired = await build(settings, clock=clock, hasher=FAST_HASHER)
    try:
        yield wired
    finally:
        await wired.close()
