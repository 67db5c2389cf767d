"""The SQLite adapter: statements run on the event loop with ``sqlite3``; only COMMIT's fsync and waits go to a thread.

A statement on an indexed row takes microseconds, a thread hand-off about 75 µs, so each unit of work runs its
statements where its code runs and pays one hop at most, for COMMIT; the writes queued meanwhile share that COMMIT
(group commit, ADR 0031). Nothing may hold the loop for long: a lock another process holds is waited for in a
thread (``busy_timeout`` is 0 on the loop), and a SELECT still running after ``ON_LOOP_SECONDS`` is stopped and
run again in a thread. Every wait ends at the statement timeout (ADR 0019): for the writer lock of this process,
for the file's write lock, for a free reader, for a statement.

Here the database: its connections opened and closed, its units of work handed out. The link to one connection
(statements, PRAGMAs, errors) is ``sqlite_link``; the group commit and the units of work are ``sqlite_commit``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from uuid import UUID

from orderline.application.ports import CommitObserver, EventSource, PoolUsage, SchemaRevision
from orderline.application.principal import PUBLIC
from orderline.storage.revision import schema_revision
from orderline.storage.sqlite_commit import GroupCommit, Lookup, WriteUnit, scope
from orderline.storage.sqlite_link import (
    Hops,
    Link,
    SqliteConnection,
    close_all,
    connect,
    optimize,
    translated,
    within,
)
from orderline.storage.unit_of_work import SqlUnitOfWork

# What other modules import from here; the connection and optimize are at home in sqlite_link. Hops is here too:
# each SqliteDatabase made looks it up in this module, so bench/launch.py replaces it here.
__all__ = ["Hops", "SqliteConnection", "SqliteDatabase", "SqliteFolderMissing", "optimize", "require_folder"]


class SqliteFolderMissing(FileNotFoundError):
    """The folder a SQLite database file should live in does not exist."""


def require_folder(path: str) -> None:
    """Refuse a database whose folder is missing: creating folders is the operator's call, not ours."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise SqliteFolderMissing(f"the folder {folder} does not exist; create it, or choose another path")


class SqliteDatabase:
    """Writes queue on one connection in this process; another process's lock is waited for in a thread."""

    dialect = "sqlite"

    def __init__(
        self,
        writer: sqlite3.Connection,
        readers: list[sqlite3.Connection],
        timeout: float,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> None:
        self._all = [writer, *readers]
        self._threads = ThreadPoolExecutor(max_workers=len(self._all), thread_name_prefix="orderline-sqlite")
        self._hops = Hops()
        self._writer = Link(writer, timeout, self._threads, self._hops)
        self._writes = GroupCommit(self._writer, timeout)
        self._readers: asyncio.Queue[Link] = asyncio.Queue()
        for reader in readers:
            self._readers.put_nowait(Link(reader, timeout, self._threads, self._hops))
        self._reader_count = len(readers)
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
        opened: list[sqlite3.Connection] = []
        try:
            with translated(statement_timeout):
                for index in range(readers + 1):
                    opened.append(
                        await asyncio.to_thread(connect, path, writer=index == 0, busy_seconds=statement_timeout)
                    )
        except BaseException:
            for raw in opened:
                raw.close()
            raise
        return cls(opened[0], opened[1:], statement_timeout, observers, events)

    @property
    def hops(self) -> int:
        """Thread hand-offs since opening: one per group of write transactions (its COMMIT), none per snapshot,
        more only for a lock another process holds or a SELECT slower than ``ON_LOOP_SECONDS``."""
        return self._hops.count

    def transaction(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        return WriteUnit(self._writes, tenant, self._observers, self._events)

    @asynccontextmanager
    async def snapshot(self, tenant: UUID = PUBLIC) -> AsyncIterator[SqlUnitOfWork]:
        reader = await within(self._timeout, self._readers.get(), "waiting for a connection")
        try:
            with translated(self._timeout):
                async with scope(reader, "BEGIN") as commit:
                    yield SqlUnitOfWork(SqliteConnection(reader), commit, tenant=tenant)
        finally:
            self._readers.put_nowait(reader)

    def lookup(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work outside any transaction, for a read that is one statement: in WAL mode a statement in
        autocommit reads its own snapshot, so BEGIN and ROLLBACK would be two statements for nothing (ADR 0033,
        round 2). A reader free at once is taken without arming a timeout."""
        return Lookup(self._readers, self._timeout, tenant)

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
        await self._writes.drain()
        await asyncio.to_thread(close_all, self._all, self._all[0], self._timeout)
        self._threads.shutdown()
