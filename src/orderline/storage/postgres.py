"""The PostgreSQL adapter: an asyncpg pool; write transactions lock the rows they change (FOR UPDATE).

Every wait ends at the statement timeout: the server's ``statement_timeout`` and ``lock_timeout`` for
what it can see, and on our side a bound on connecting, on waiting for a free connection, and on each
round trip (``command_timeout``), for a server that stops answering altogether.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import CommitObserver, EventSource, PoolUsage, SchemaRevision
from orderline.application.principal import PUBLIC
from orderline.storage.driver import Params, Row, UniqueViolation, Write
from orderline.storage.keys import key_of
from orderline.storage.postgres_pool import Pool
from orderline.storage.revision import schema_revision
from orderline.storage.unit_of_work import Commit, SqlUnitOfWork, committed_or_rolled_back
from orderline.storage.writes import PLACEHOLDER, Writes

T = TypeVar("T")

# Our own bound on a round trip is the server's plus this: the server's timeout answers first, with a
# clear error and a connection still fit to reuse; ours only ends the wait on a server gone silent.
CLIENT_GRACE_SECONDS = 1.0

# Failures that mean the server cannot be reached or used now, not a bug of ours: the socket, and the
# SQLSTATE classes 08 (connection), 53 (too many connections...) and 57 (shutting down, starting up;
# its 57014 statement_timeout is caught first, as a timeout).
_UNREACHABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
)


@lru_cache(maxsize=512)
def to_numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite ``:name`` placeholders as asyncpg's ``$n``; return the SQL and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return PLACEHOLDER.sub(number, sql), tuple(names)


def lock_sql(table: str, row_id: UUID, tenant: UUID) -> str:
    """``PostgresConnection.lock``'s statement: no parameters (it may share a simple-protocol message with BEGIN),
    so the id and the tenant are written in, as canonical UUID text, so nothing of a caller's reaches the SQL. The
    row is found by its key alone and its tenant compared outside (``key_of``, ADR 0045): no tenant-led index."""
    row, owner = UUID(str(row_id)), UUID(str(tenant))
    key = key_of(table, f"'{row}'", f"'{owner}'")
    return f"SELECT 1 FROM {table} WHERE id = {key} FOR UPDATE"  # noqa: S608


def _args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = to_numbered(sql)
    values = params or {}
    return text, [values[name] for name in names]


class PostgresConnection:
    """One pooled connection. Round trips are the cost here (ADR 0034), so a transaction's BEGIN waits to travel
    with its first statement, and writes whose results no one reads wait to travel together, as one statement,
    with the next statement or the COMMIT."""

    dialect = "postgresql"

    def __init__(self, raw: asyncpg.Connection[asyncpg.Record], timeout: float) -> None:
        self._raw = raw
        self._timeout = timeout
        self._begin: str | None = None  # a transaction's BEGIN not sent yet
        self._begun = False  # a BEGIN was sent and its transaction has not ended
        self._writes = Writes()
        self._dropped = False  # terminated after a silent server: nothing is left to say on it

    async def _answer(self, call: Awaitable[T]) -> T:
        """One round trip; the ways it can fail to be answered in time become DatabaseUnavailable, a broken unique
        constraint UniqueViolation."""
        try:
            return await call
        except asyncio.CancelledError:
            # Not answered: asyncpg is still cancelling the statement, so the connection is fit for nothing more
            # (not even a ROLLBACK); it is closed, and its pool drops it. The server ends the transaction.
            self._raw.terminate()
            self._dropped = True
            raise
        except TimeoutError as exc:  # our command_timeout: the server said nothing at all
            # Drop the connection: its rollback and the pool's reset would wait on the same silent server.
            self._raw.terminate()
            self._dropped = True
            silent = self._timeout + CLIENT_GRACE_SECONDS
            raise DatabaseUnavailable.timed_out(silent, "the server stopped answering") from exc
        except asyncpg.LockNotAvailableError as exc:  # lock_timeout
            raise DatabaseUnavailable.timed_out(self._timeout, "waiting for a lock another transaction holds") from exc
        except asyncpg.QueryCanceledError as exc:  # statement_timeout
            raise DatabaseUnavailable.timed_out(self._timeout) from exc
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(exc.constraint_name or str(exc)) from exc
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable.unreachable() from exc

    async def _ready(self) -> None:
        """Send what waits to go before the next statement: the BEGIN, then the queued writes."""
        if self._begin is not None:
            begin, self._begin, self._begun = self._begin, None, True
            await self._answer(self._raw.execute(begin))
        if self._writes:
            text, args = _args(*self._writes.statement())
            self._writes.answered(await self._answer(self._raw.fetchrow(text, *args)))

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        await self._ready()
        text, args = _args(sql, params)
        return list(await self._answer(self._raw.fetch(text, *args)))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        await self._ready()
        text, args = _args(sql, params)
        row: Row | None = await self._answer(self._raw.fetchrow(text, *args))
        return row

    async def execute(self, sql: str, params: Params | None = None) -> int:
        await self._ready()
        text, args = _args(sql, params)
        status = await self._answer(self._raw.execute(text, *args))
        # asyncpg returns the command tag, e.g. "UPDATE 1" or "INSERT 0 1"; the count is last.
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def write(self, write: Write) -> None:
        if self._begin is None and not self._begun:  # outside a transaction nothing would send it later
            changed = await self.execute(write.sql, write.params)
            if write.check is not None:
                write.check(changed)
            return
        if self._writes.touches(write.row):
            await self._ready()  # two writes of one row in one statement: PostgreSQL leaves which one wins open
        self._writes.add(write)

    async def lock(self, table: str, row_id: UUID, tenant: UUID) -> bool:
        """``SELECT … FOR UPDATE`` of one row by id, sent with the transaction's BEGIN when that is still to go:
        one simple-protocol message of two statements, so one round trip. It has no parameters (a simple query
        cannot): the id is a UUID, written as its canonical text, so nothing of a caller's reaches the SQL."""
        if self._writes:
            await self._ready()
        sql = lock_sql(table, row_id, tenant)
        if self._begin is not None:
            sql, self._begin, self._begun = f"{self._begin}; {sql}", None, True
        return bool(await self._answer(self._raw.execute(sql)) == "SELECT 1")

    def for_update(self) -> str:
        return " FOR UPDATE"

    async def next_value(self, sequence: str, table: str, column: str) -> int:
        await self._ready()
        return int(await self._answer(self._raw.fetchval(f"SELECT nextval('{sequence}')")))

    def begin(self, *, isolation: str | None = None, readonly: bool = False) -> AbstractAsyncContextManager[Commit]:
        """A transaction on this connection, rolled back unless committed. Its BEGIN goes with its first
        statement; one that sent no statement has nothing to commit or roll back."""
        begin = _begin_sql(isolation, readonly)

        async def start() -> None:
            self.start(begin)

        return committed_or_rolled_back(start, self.commit, self.rollback)

    def start(self, begin: str) -> None:
        """Open a transaction: its BEGIN waits to travel with its first statement."""
        self._begin = begin

    async def commit(self) -> None:
        if self._begin is not None:  # nothing sent yet: the queued writes, if any, are all it did,
            self._begin = None  # and as one statement they are atomic without a transaction
            await self._ready()
            return
        await self._ready()
        await self._answer(self._raw.execute("COMMIT"))
        self._begun = False

    async def rollback(self) -> None:
        self._writes.clear()
        self._begin = None
        begun, self._begun = self._begun, False
        if begun and not (self._dropped or self._raw.is_closed()):  # dropped or lost: nothing to roll back
            await self._answer(self._raw.execute("ROLLBACK"))


def _begin_sql(isolation: str | None, readonly: bool) -> str:
    level = "" if isolation is None else " ISOLATION LEVEL " + isolation.replace("_", " ").upper()
    return f"BEGIN{level}{' READ ONLY' if readonly else ''}"


_BEGIN = _begin_sql(None, readonly=False)


class _Unit:
    """``PostgresDatabase.transaction``'s (and ``lookup``'s) context manager, written as a class: what
    ``async with self._connection() as connection, connection.begin() as commit`` did through three generator-based
    context managers — a connection from the pool, a transaction rolled back unless committed, the connection
    returned whatever happens — in two method calls (ADR 0046). ``begin`` None: no transaction (a lookup)."""

    __slots__ = ("_committed", "_connection", "_database", "_raw", "_tenant", "_transactional")

    def __init__(self, database: PostgresDatabase, tenant: UUID, *, transactional: bool) -> None:
        self._database = database
        self._tenant = tenant
        self._transactional = transactional
        self._committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        database = self._database
        self._raw = raw = await database._acquire()
        self._connection = connection = PostgresConnection(raw, database._timeout)
        if not self._transactional:
            return SqlUnitOfWork(connection, _nothing_to_commit, tenant=self._tenant)
        connection.start(_BEGIN)
        return SqlUnitOfWork(connection, self._commit, database._observers, database._events, self._tenant)

    async def _commit(self) -> None:
        await self._connection.commit()
        self._committed = True

    async def __aexit__(self, *_exc: object) -> None:
        try:
            if self._transactional and not self._committed:
                await self._connection.rollback()
        finally:
            await self._database._release(self._raw)


async def _nothing_to_commit() -> None:
    return None


async def _init_connection(raw: asyncpg.Connection[asyncpg.Record]) -> None:
    # JSON travels as text on both engines; the repositories encode and decode it.
    await raw.set_type_codec("jsonb", encoder=lambda v: v, decoder=lambda v: v, schema="pg_catalog", format="text")


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self,
        pool: Pool,
        timeout: float,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> None:
        self._pool = pool
        self._timeout = timeout
        self._observers = tuple(observers)
        self._events = events

    @classmethod
    async def open(
        cls,
        dsn: str,
        min_size: int = 1,
        max_size: int = 10,
        statement_timeout: float = 5.0,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> PostgresDatabase:
        milliseconds = str(max(1, round(statement_timeout * 1000)))

        async def connect() -> asyncpg.Connection[asyncpg.Record]:
            raw: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
                dsn,
                timeout=statement_timeout,  # connecting
                command_timeout=statement_timeout + CLIENT_GRACE_SECONDS,
                # Session defaults from the startup packet: nothing ever changes them. The statement's
                # timer starts first, so it is usually what ends a lock wait; lock_timeout names it when not.
                server_settings={"statement_timeout": milliseconds, "lock_timeout": milliseconds},
            )
            try:
                await _init_connection(raw)
            except BaseException:
                raw.terminate()
                raise
            return raw

        try:
            pool = await Pool.open(connect, min_size, max_size, statement_timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailable.timed_out(statement_timeout, "connecting") from exc
        return cls(pool, statement_timeout, observers, events)

    async def _acquire(self) -> asyncpg.Connection[asyncpg.Record]:
        try:
            return await self._pool.acquire()
        except TimeoutError as exc:
            raise DatabaseUnavailable.timed_out(self._timeout, "waiting for a connection") from exc
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable.unreachable() from exc

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[PostgresConnection]:
        raw = await self._acquire()
        try:
            yield PostgresConnection(raw, self._timeout)
        finally:
            await self._release(raw)

    async def _release(self, raw: asyncpg.Connection[asyncpg.Record]) -> None:
        # A rollback on return that fails drops the connection, and that is all: the work has committed or
        # rolled back by now, so the request's answer must not change.
        with contextlib.suppress(TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, *_UNREACHABLE):
            await self._pool.release(raw)

    def transaction(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        return _Unit(self, tenant, transactional=True)

    @asynccontextmanager
    async def snapshot(self, tenant: UUID = PUBLIC) -> AsyncIterator[SqlUnitOfWork]:
        async with (
            self._connection() as connection,
            connection.begin(isolation="repeatable_read", readonly=True) as commit,
        ):
            yield SqlUnitOfWork(connection, commit, tenant=tenant)

    def lookup(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work outside any transaction, for a read that is one statement: in autocommit a
        statement is its own snapshot, so BEGIN and ROLLBACK would be two round trips for nothing."""
        return _Unit(self, tenant, transactional=False)

    async def ping(self) -> None:
        async with self._connection() as connection:
            await connection.fetch_one("SELECT 1")

    def usage(self) -> PoolUsage:
        """Connections the pool has opened (busy or idle), and its ceiling."""
        opened, idle = self._pool.size(), self._pool.idle()
        return PoolUsage(in_use=opened - idle, idle=idle, limit=self._pool.max_size())

    async def schema_revision(self) -> SchemaRevision:
        async with self.snapshot() as uow:
            return await schema_revision(uow.connection)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), self._timeout)
        except TimeoutError:
            self._pool.terminate()  # a server gone silent would keep a graceful close waiting
