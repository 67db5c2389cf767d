"""The SQLite adapter: one writer connection behind a lock with BEGIN IMMEDIATE, a few WAL readers.

Every wait ends at the statement timeout: for the writer lock of this process, for the file's write
lock held by another process (``busy_timeout``), for a free reader, and for a statement still running
(interrupted on aiosqlite's thread, which cancelling the awaiting task cannot stop).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import aiosqlite

from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import CommitObserver, EventSource, PoolUsage, SchemaRevision
from orderline.storage.driver import Params, Row, UniqueViolation
from orderline.storage.revision import schema_revision
from orderline.storage.unit_of_work import Commit, SqlUnitOfWork, scope

T = TypeVar("T")

# SQLite's primary result codes that mean "waited too long" and "cannot use the file", not a bug of ours.
_WAITED = {
    sqlite3.SQLITE_BUSY: "waiting for another connection's write lock",
    sqlite3.SQLITE_LOCKED: "waiting for a table another statement holds",
    sqlite3.SQLITE_INTERRUPT: "the statement ran too long",
}
_UNUSABLE = {
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_CORRUPT,
}


class SqliteFolderMissing(FileNotFoundError):
    """The folder a SQLite database file should live in does not exist."""


def require_folder(path: str) -> None:
    """Refuse a database whose folder is missing: creating folders is the operator's call, not ours."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise SqliteFolderMissing(f"the folder {folder} does not exist; create it, or choose another path")


def _encode(value: Any) -> Any:
    """Store values the way SQLAlchemy's types do on SQLite, so the schema and the rows agree."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _bind(params: Params | None) -> dict[str, Any]:
    return {name: _encode(value) for name, value in (params or {}).items()}


@contextmanager
def _translated(timeout: float) -> Iterator[None]:
    """SQLite's "waited too long" and "cannot use the file" errors as DatabaseUnavailable."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        code = exc.sqlite_errorcode & 0xFF  # the primary code of an extended one (SQLITE_BUSY_SNAPSHOT...)
        if code in _WAITED:
            raise DatabaseUnavailable.timed_out(timeout, _WAITED[code]) from exc
        if code in _UNUSABLE:
            raise DatabaseUnavailable(f"the database cannot be used ({exc.sqlite_errorname})") from exc
        raise


async def _within(seconds: float, waiting: Awaitable[T], what: str) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await waiting
    except TimeoutError:
        raise DatabaseUnavailable.timed_out(seconds, what) from None


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection, timeout: float) -> None:
        self._raw = raw
        self._timeout = timeout
        self._interrupting: asyncio.Future[None] | None = None

    @contextmanager
    def _statement(self) -> Iterator[None]:
        """One statement, interrupted once it has run for the timeout.

        It runs on aiosqlite's thread, which cancelling the awaiting task would not stop; SQLite's
        interrupt does, and is a no-op when it comes just after the statement finished.
        """
        timer = asyncio.get_running_loop().call_later(self._timeout, self._interrupt)
        try:
            with _translated(self._timeout):
                yield
        finally:
            timer.cancel()

    def _interrupt(self) -> None:
        # aiosqlite's interrupt() calls sqlite3's at once (safe from any thread): a coroutine in name only.
        self._interrupting = asyncio.ensure_future(self._raw.interrupt())

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        with self._statement():
            async with self._raw.execute(sql, _bind(params)) as cursor:
                return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        with self._statement():
            async with self._raw.execute(sql, _bind(params)) as cursor:
                row: Row | None = await cursor.fetchone()
                return row

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            with self._statement():
                async with self._raw.execute(sql, _bind(params)) as cursor:
                    return cursor.rowcount
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise UniqueViolation(str(exc)) from exc
            raise

    def for_update(self) -> str:
        return ""  # BEGIN IMMEDIATE already holds the database's single write lock

    async def next_value(self, sequence: str, table: str, column: str) -> int:
        row = await self.fetch_one(f"SELECT COALESCE(MAX({column}), 0) + 1 AS next FROM {table}")  # noqa: S608
        assert row is not None
        return int(row["next"])


async def _connect(path: str, *, writer: bool, busy_seconds: float) -> aiosqlite.Connection:
    raw = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
    raw.row_factory = sqlite3.Row
    try:
        # busy_timeout: how long to wait for a lock another process (the CLI, a second server) holds.
        for pragma in (f"PRAGMA busy_timeout = {max(1, round(busy_seconds * 1000))}", "PRAGMA foreign_keys = ON"):
            await _run(raw, pragma)
        # WAL is persistent in the file (readers stop blocking writers). Setting it on a new connection
        # takes the write lock even when the file is in WAL already: ask first, so opening never waits.
        if writer and (await _run(raw, "PRAGMA journal_mode"))[0][0] != "wal":
            await _run(raw, "PRAGMA journal_mode = WAL")
    except BaseException:
        await raw.close()  # its thread would keep the process alive
        raise
    return raw


async def _run(raw: aiosqlite.Connection, sql: str) -> list[sqlite3.Row]:
    async with raw.execute(sql) as cursor:
        return list(await cursor.fetchall())


class SqliteDatabase:
    """Writes queue on one connection in this process; ``busy_timeout`` covers other processes (the CLI)."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        readers: list[aiosqlite.Connection],
        timeout: float,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> None:
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self._readers.put_nowait(reader)
        self._reader_count = len(readers)
        self._all = [writer, *readers]
        self._timeout = timeout
        self._observers = tuple(observers)
        self._events = events

    @classmethod
    async def open(
        cls,
        path: str,
        readers: int = 4,
        statement_timeout: float = 5.0,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> SqliteDatabase:
        require_folder(path)
        opened: list[aiosqlite.Connection] = []
        try:
            with _translated(statement_timeout):
                for index in range(readers + 1):
                    opened.append(await _connect(path, writer=index == 0, busy_seconds=statement_timeout))
        except BaseException:
            for raw in opened:
                await raw.close()
            raise
        return cls(opened[0], opened[1:], statement_timeout, observers, events)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        await _within(self._timeout, self._write_lock.acquire(), "waiting behind another write")
        try:
            with _translated(self._timeout):
                async with _scope(self._writer, "BEGIN IMMEDIATE") as commit:
                    connection = SqliteConnection(self._writer, self._timeout)
                    yield SqlUnitOfWork(connection, commit, self._observers, self._events)
        finally:
            self._write_lock.release()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlUnitOfWork]:
        reader = await _within(self._timeout, self._readers.get(), "waiting for a connection")
        try:
            with _translated(self._timeout):
                async with _scope(reader, "BEGIN") as commit:
                    yield SqlUnitOfWork(SqliteConnection(reader, self._timeout), commit)
        finally:
            self._readers.put_nowait(reader)

    async def ping(self) -> None:
        async with self.snapshot() as uow:
            await uow.connection.fetch_one("SELECT 1")

    def usage(self) -> PoolUsage:
        """The reader connections; the one writer is a lock, not a pool."""
        idle = self._readers.qsize()
        return PoolUsage(in_use=self._reader_count - idle, idle=idle, limit=self._reader_count)

    async def schema_revision(self) -> SchemaRevision:
        async with self.snapshot() as uow:
            return await schema_revision(uow.connection)

    async def close(self) -> None:
        for raw in self._all:
            await raw.close()


def _scope(raw: aiosqlite.Connection, begin: str) -> AbstractAsyncContextManager[Commit]:
    async def rollback() -> None:
        if raw.in_transaction:  # some errors (an interrupted write, a full disk) already rolled it back
            await _run(raw, "ROLLBACK")

    return scope(lambda: _run(raw, begin), lambda: _run(raw, "COMMIT"), rollback)
