"""SQLite runs its statements on the event loop: one thread hop per write transaction (its COMMIT), none per
snapshot, and a lock another process holds or a long SELECT is waited for in a thread, never on the loop (ADR 0031).

Hops are counted by the adapter (SqliteDatabase.hops), a seam and not a timing, so the counts cannot creep back.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from orderline.application.errors import DatabaseUnavailable
from orderline.application.orders import CancelOrder
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.sqlite import SqliteDatabase
from orderline.storage.sqlite_link import Link
from orderline.storage.unit_of_work import SqlUnitOfWork
from tests.support import ADMIN, ENGINES, a_pet, an_order, approve

pytestmark = pytest.mark.parametrize("fresh_database", [ENGINES[0]], indirect=True)

TIMEOUT = 0.5
SLOW_SELECT = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1000000000) SELECT count(*) FROM n"


@dataclass
class Units:
    """Each unit of work a use case ran, as (kind, thread hops it paid)."""

    seen: list[tuple[str, int]] = field(default_factory=list)

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def units(monkeypatch: pytest.MonkeyPatch) -> Units:
    counted = Units()

    def counting(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @asynccontextmanager
        async def unit(db: SqliteDatabase, tenant: UUID = PUBLIC) -> AsyncIterator[SqlUnitOfWork]:
            before = db.hops
            async with original(db, tenant) as uow:
                yield uow
            counted.seen.append((kind, db.hops - before))

        return unit

    monkeypatch.setattr(SqliteDatabase, "transaction", counting("transaction", SqliteDatabase.transaction))
    monkeypatch.setattr(SqliteDatabase, "snapshot", counting("snapshot", SqliteDatabase.snapshot))
    monkeypatch.setattr(SqliteDatabase, "lookup", counting("lookup", SqliteDatabase.lookup))
    return counted


async def _get(use_cases: UseCases) -> Awaitable[object]:
    order = await an_order(use_cases, await a_pet(use_cases))
    return use_cases.orders.get(ADMIN, order.id)


async def _create(use_cases: UseCases) -> Awaitable[object]:
    pet = await a_pet(use_cases)
    return an_order(use_cases, pet)


async def _cancel(use_cases: UseCases) -> Awaitable[object]:
    order = await an_order(use_cases, await a_pet(use_cases))
    return use_cases.orders.cancel(ADMIN, CancelOrder(order.id))


async def _pay(use_cases: UseCases) -> Awaitable[object]:
    order = await an_order(use_cases, await a_pet(use_cases))
    return approve(use_cases, order)


@pytest.mark.parametrize("arrange", [_get, _create, _cancel, _pay], ids=["get", "create", "cancel", "pay"])
async def test_a_use_case_pays_one_thread_hop_per_write_transaction_and_none_per_read(
    use_cases: UseCases, units: Units, arrange: Callable[[UseCases], Awaitable[Awaitable[object]]]
) -> None:
    act = await arrange(use_cases)
    units.clear()

    await act

    assert units.seen, "the use case ran no unit of work"
    assert all(hops == (1 if kind == "transaction" else 0) for kind, hops in units.seen), units.seen


@contextmanager
def another_process_holding_the_write_lock(path: str) -> Iterator[subprocess.Popen[str]]:
    """A second process takes the file's write lock (BEGIN IMMEDIATE) and keeps it until its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n"
            "c.execute('COMMIT')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        yield holder
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()


@asynccontextmanager
async def opened(database_url: str, statement_timeout: float = TIMEOUT) -> AsyncIterator[SqliteDatabase]:
    db = await open_database(DatabaseUrl.parse(database_url), pool_size=2, statement_timeout=statement_timeout)
    assert isinstance(db, SqliteDatabase)
    try:
        yield db
    finally:
        await db.close()


async def _write_one_row(db: SqliteDatabase) -> None:
    async with db.transaction() as uow:
        await uow.connection.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
        await uow.connection.execute("INSERT INTO probe (x) VALUES (1)")
        await uow.commit()


async def test_reads_go_on_while_a_write_waits_for_a_lock_another_process_holds(database_url: str) -> None:
    target = DatabaseUrl.parse(database_url).target
    async with opened(database_url, statement_timeout=30) as db:
        with another_process_holding_the_write_lock(target) as holder:
            write = asyncio.create_task(_write_one_row(db))
            await asyncio.sleep(0)  # the write is waiting for the lock, in a thread

            await db.ping()
            waiting_while_read = not write.done()
            assert holder.stdin is not None
            holder.stdin.close()  # the other process commits and lets go
            await write

    assert waiting_while_read
    assert db.hops == 2  # BEGIN IMMEDIATE's wait and COMMIT; the read paid none


async def test_a_write_waits_at_most_the_timeout_for_a_lock_another_process_holds(database_url: str) -> None:
    target = DatabaseUrl.parse(database_url).target
    async with opened(database_url) as db:
        with another_process_holding_the_write_lock(target), pytest.raises(DatabaseUnavailable, match="write lock"):
            await _write_one_row(db)

        await _write_one_row(db)  # the connection serves the next write once the lock is free


async def test_a_long_select_runs_in_a_thread_while_other_reads_go_on(database_url: str) -> None:
    async with opened(database_url) as db:

        async def slow_read() -> None:
            async with db.snapshot() as uow:
                await uow.connection.fetch_one(SLOW_SELECT)

        slow = asyncio.create_task(slow_read())
        await asyncio.sleep(0)  # it starts on the loop, is stopped after ON_LOOP_SECONDS and goes on in a thread

        await db.ping()
        pinged_while_slow = not slow.done()
        with pytest.raises(DatabaseUnavailable, match="ran too long"):
            await slow

    assert pinged_while_slow


async def test_a_statement_on_the_loop_takes_microseconds_not_a_hop(database_url: str) -> None:
    async with opened(database_url) as db, db.snapshot() as uow:
        for _ in range(100):
            await uow.connection.fetch_one("SELECT 1 AS one")

    assert db.hops == 0


async def test_the_database_is_in_wal_with_full_synchronous_commits(database_url: str) -> None:
    async with opened(database_url) as db, db.snapshot() as uow:
        journal = await uow.connection.fetch_one("SELECT journal_mode AS mode FROM pragma_journal_mode")
        synchronous = await uow.connection.fetch_one("SELECT synchronous AS mode FROM pragma_synchronous")

    assert journal is not None
    assert journal["mode"] == "wal"
    assert synchronous is not None
    assert synchronous["mode"] == 2  # FULL


async def test_no_connection_maps_the_file_into_memory(database_url: str) -> None:
    """ADR 0047: with a 256 MiB map each write cost 11-31 % more CPU, and no endpoint was faster under wrk."""
    async with opened(database_url) as db:
        async with db.snapshot() as uow:
            reader = await uow.connection.fetch_one("PRAGMA mmap_size")
        async with db.transaction() as uow:
            writer = await uow.connection.fetch_one("PRAGMA mmap_size")
            await uow.commit()

    assert reader is not None
    assert writer is not None
    assert (reader["mmap_size"], writer["mmap_size"]) == (0, 0)


async def test_values_are_stored_as_the_schemas_types_store_them(database_url: str) -> None:
    """A key as its 32 hex digits, a moment in UTC to the microsecond, a day in ISO: what SQLAlchemy's types write
    on SQLite, so rows written by the request path and by the schema's own tools agree."""
    key = UUID("01890a5d-ac96-774b-bcce-b302099a8057")
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    async with opened(database_url) as db, db.snapshot() as uow:
        row = await uow.connection.fetch_one(
            "SELECT :key AS key, :moment AS moment, :day AS day, :text AS text, :number AS number",
            {"key": key, "moment": moment, "day": date(2026, 12, 1), "text": "as is", "number": 7},
        )

    assert row is not None
    stored = tuple(row[name] for name in ("key", "moment", "day", "text", "number"))
    assert stored == ("01890a5dac96774bbcceb302099a8057", "2026-12-01 07:30:00.000000", "2026-12-01", "as is", 7)


async def _insert(db: SqliteDatabase, x: int, *, fail: bool = False) -> None:
    async with db.transaction() as uow:
        await uow.connection.execute("INSERT INTO probe (x) VALUES (:x)", {"x": x})
        if fail:
            raise RuntimeError("refused")
        await uow.commit()


async def _stored(db: SqliteDatabase) -> list[int]:
    async with db.snapshot() as uow:
        return [row["x"] for row in await uow.connection.fetch_all("SELECT x FROM probe ORDER BY x")]


async def test_writes_that_queue_together_share_one_commit(database_url: str) -> None:
    async with opened(database_url) as db:
        await _write_one_row(db)
        before = db.hops

        await asyncio.gather(*(_insert(db, x) for x in range(2, 12)))

        assert db.hops - before == 1  # one COMMIT, one fsync, for ten units of work
        assert await _stored(db) == [1, *range(2, 12)]


async def test_a_refused_write_in_a_group_undoes_only_its_own_changes(database_url: str) -> None:
    async with opened(database_url) as db:
        await _write_one_row(db)

        outcomes = await asyncio.gather(
            _insert(db, 2), _insert(db, 3, fail=True), _insert(db, 4), return_exceptions=True
        )

        assert [type(outcome).__name__ for outcome in outcomes] == ["NoneType", "RuntimeError", "NoneType"]
        assert await _stored(db) == [1, 2, 4]


async def test_a_refused_write_alone_lets_go_of_the_file_lock(database_url: str) -> None:
    async with opened(database_url) as db:
        await _write_one_row(db)

        with pytest.raises(RuntimeError):
            await _insert(db, 2, fail=True)

        other = sqlite3.connect(DatabaseUrl.parse(database_url).target, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # would fail at once (SQLITE_BUSY) if the lock were still held
            other.execute("ROLLBACK")
        finally:
            other.close()


async def test_a_lookup_reads_on_the_loop_and_sees_every_earlier_commit_while_another_process_writes(
    database_url: str,
) -> None:
    # One SELECT in autocommit is its own snapshot in WAL mode: no BEGIN/ROLLBACK around it (ADR 0033, round 2).
    async with opened(database_url) as db:
        async with db.transaction() as uow:
            await uow.connection.execute("CREATE TABLE notes (body TEXT)")
            await uow.connection.execute("INSERT INTO notes VALUES ('first')")
            await uow.commit()
        hops = db.hops

        with another_process_holding_the_write_lock(DatabaseUrl.parse(database_url).target):
            async with db.lookup() as uow:
                row = await uow.connection.fetch_one("SELECT body FROM notes")

    assert row is not None
    assert row["body"] == "first"
    assert db.hops == hops  # read on the loop, not waited for in a thread


async def test_a_lookup_that_runs_too_long_is_unavailable_and_gives_its_reader_back(database_url: str) -> None:
    async with opened(database_url) as db:
        with pytest.raises(DatabaseUnavailable, match="ran too long"):
            async with db.lookup() as uow:
                await uow.connection.fetch_one(SLOW_SELECT)

        assert db.usage().in_use == 0
        async with db.lookup() as uow:
            assert await uow.connection.fetch_one("SELECT 1 AS one") is not None


async def _insert_then_stall(db: SqliteDatabase) -> None:
    async with db.transaction() as uow:
        await uow.connection.execute("INSERT INTO probe (x) VALUES (2)")
        await uow.connection.execute(f"INSERT INTO probe (x) {SLOW_SELECT}")
        await uow.commit()


async def test_a_write_whose_statement_fails_is_unavailable_and_lets_the_next_write_go(database_url: str) -> None:
    async with opened(database_url) as db:
        await _write_one_row(db)

        with pytest.raises(DatabaseUnavailable, match="ran too long"):
            await _insert_then_stall(db)

        await _insert(db, 3)
        assert await _stored(db) == [1, 3]


async def test_a_commit_refused_by_sqlite_is_unavailable_for_its_group_and_the_next_write_goes_through(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with opened(database_url) as db:
        await _write_one_row(db)
        busy = sqlite3.OperationalError("database is locked")
        busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
        commit_in_thread = Link.in_thread

        async def refused(link: Link, sql: str, *args: Any) -> Any:
            if sql == "COMMIT":
                raise busy
            return await commit_in_thread(link, sql, *args)

        monkeypatch.setattr(Link, "in_thread", refused)
        with pytest.raises(DatabaseUnavailable, match="write lock") as refusal:
            await _insert(db, 2)
        monkeypatch.undo()

        await _insert(db, 3)
        assert refusal.value.__cause__ is busy
        assert await _stored(db) == [1, 3]
