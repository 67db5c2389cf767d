"""The PostgreSQL adapter: an asyncpg pool; write transactions lock the rows they change (FOR UPDATE)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from orderline.application.ports import CommitObserver, PoolUsage
from orderline.storage.driver import Params, Row, UniqueViolation
from orderline.storage.unit_of_work import SqlUnitOfWork, scope

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def to_numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite ``:name`` placeholders as asyncpg's ``$n``; return the SQL and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


def _args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = to_numbered(sql)
    values = params or {}
    return text, [values[name] for name in names]


class PostgresConnection:
    dialect = "postgresql"

    def __init__(self, raw: PoolConnectionProxy[asyncpg.Record]) -> None:
        self._raw = raw

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = _args(sql, params)
        return list(await self._raw.fetch(text, *args))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = _args(sql, params)
        row: Row | None = await self._raw.fetchrow(text, *args)
        return row

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, args = _args(sql, params)
        try:
            status = await self._raw.execute(text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(exc.constraint_name or str(exc)) from exc
        # asyncpg returns the command tag, e.g. "UPDATE 1" or "INSERT 0 1"; the count is last.
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    def for_update(self) -> str:
        return " FOR UPDATE"

    async def next_value(self, sequence: str, table: str, column: str) -> int:
        return int(await self._raw.fetchval(f"SELECT nextval('{sequence}')"))


async def _init_connection(raw: asyncpg.Connection[asyncpg.Record]) -> None:
    # JSON travels as text on both engines; the repositories encode and decode it.
    await raw.set_type_codec("jsonb", encoder=lambda v: v, decoder=lambda v: v, schema="pg_catalog", format="text")


class PostgresDatabase:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], observers: Sequence[CommitObserver] = ()) -> None:
        self._pool = pool
        self._observers = tuple(observers)

    @classmethod
    async def open(
        cls, dsn: str, min_size: int = 1, max_size: int = 10, observers: Sequence[CommitObserver] = ()
    ) -> PostgresDatabase:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
        return cls(pool, observers)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._pool.acquire() as raw:
            tx = raw.transaction()
            async with scope(tx.start, tx.commit, tx.rollback) as commit:
                yield SqlUnitOfWork(PostgresConnection(raw), commit, self._observers)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._pool.acquire() as raw:
            tx = raw.transaction(isolation="repeatable_read", readonly=True)
            async with scope(tx.start, tx.commit, tx.rollback) as commit:
                yield SqlUnitOfWork(PostgresConnection(raw), commit)

    async def ping(self) -> None:
        async with self._pool.acquire() as raw:
            await raw.fetchval("SELECT 1")

    def usage(self) -> PoolUsage:
        """Connections the pool has opened (busy or idle), and its ceiling."""
        opened, idle = self._pool.get_size(), self._pool.get_idle_size()
        return PoolUsage(in_use=opened - idle, idle=idle, limit=self._pool.get_max_size())

    async def close(self) -> None:
        await self._pool.close()
