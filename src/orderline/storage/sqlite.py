"""The SQLite adapter: one writer connection behind a lock with BEGIN IMMEDIATE, a few WAL readers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import aiosqlite

from orderline.application.ports import CommitObserver, PoolUsage
from orderline.storage.driver import Params, Row, UniqueViolation
from orderline.storage.unit_of_work import Commit, SqlUnitOfWork, scope

BUSY_TIMEOUT_MS = 5_000


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


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self._raw = raw

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        async with self._raw.execute(sql, _bind(params)) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        async with self._raw.execute(sql, _bind(params)) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
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


async def _connect(path: str, *, writer: bool) -> aiosqlite.Connection:
    raw = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
    raw.row_factory = sqlite3.Row
    pragmas = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON"]
    if writer:
        pragmas.append("PRAGMA journal_mode = WAL")  # persistent in the file: readers stop blocking writers
    for pragma in pragmas:
        async with raw.execute(pragma) as cursor:
            await cursor.fetchall()
    return raw


class SqliteDatabase:
    """Writes queue on one connection in this process; ``busy_timeout`` covers other processes (the CLI)."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        readers: list[aiosqlite.Connection],
        observers: Sequence[CommitObserver] = (),
    ) -> None:
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self._readers.put_nowait(reader)
        self._reader_count = len(readers)
        self._all = [writer, *readers]
        self._observers = tuple(observers)

    @classmethod
    async def open(cls, path: str, readers: int = 4, observers: Sequence[CommitObserver] = ()) -> SqliteDatabase:
        require_folder(path)
        writer = await _connect(path, writer=True)
        return cls(writer, [await _connect(path, writer=False) for _ in range(readers)], observers)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._write_lock, _scope(self._writer, "BEGIN IMMEDIATE") as commit:
            yield SqlUnitOfWork(SqliteConnection(self._writer), commit, self._observers)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlUnitOfWork]:
        reader = await self._readers.get()
        try:
            async with _scope(reader, "BEGIN") as commit:
                yield SqlUnitOfWork(SqliteConnection(reader), commit)
        finally:
            self._readers.put_nowait(reader)

    async def ping(self) -> None:
        async with self.snapshot() as uow:
            await uow.connection.fetch_one("SELECT 1")

    def usage(self) -> PoolUsage:
        """The reader connections; the one writer is a lock, not a pool."""
        idle = self._readers.qsize()
        return PoolUsage(in_use=self._reader_count - idle, idle=idle, limit=self._reader_count)

    async def close(self) -> None:
        for raw in self._all:
            await raw.close()


def _scope(raw: aiosqlite.Connection, begin: str) -> AbstractAsyncContextManager[Commit]:
    async def run(sql: str) -> None:
        async with raw.execute(sql):
            pass

    return scope(lambda: run(begin), lambda: run("COMMIT"), lambda: run("ROLLBACK"))
