"""The PostgreSQL adapter's connection pool: asyncpg connections lent to one unit of work at a time (ADR 0044)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

Connect = Callable[[], Awaitable["asyncpg.Connection[asyncpg.Record]"]]


class Pool:
    """Up to ``max_size`` asyncpg connections, each lent to one unit of work at a time (ADR 0044).

    asyncpg's own pool costs about 30 µs of CPU per checkout and return (a task for ``wait_for``, another for
    ``shield``, a proxy object, an inactivity timer), two to four times per request; this one costs a
    microsecond when a connection is idle. What it keeps of asyncpg's: a bounded wait for a free connection,
    connections opened on demand (connecting has its own timeout), a broken or closed connection dropped, a
    transaction left open rolled back on return (ADR 0032: the app keeps no other session state, so there is
    nothing else to reset), and closing that waits for the connections lent out.
    """

    def __init__(self, connect: Connect, max_size: int, wait_seconds: float) -> None:
        self._connect = connect
        self._max_size = max_size
        self._timeout = wait_seconds
        self._slots = asyncio.Semaphore(max_size)  # one per connection lent out or being opened
        self._idle: deque[asyncpg.Connection[asyncpg.Record]] = deque()
        self._opened = 0
        self._closed = False

    @classmethod
    async def open(cls, connect: Connect, min_size: int, max_size: int, wait_seconds: float) -> Pool:
        pool = cls(connect, max_size, wait_seconds)
        try:
            for _ in range(min_size):  # a wrong URL or credentials fail here, at start-up
                pool._idle.append(await pool._new())
        except BaseException:
            pool.terminate()
            raise
        return pool

    async def _new(self) -> asyncpg.Connection[asyncpg.Record]:
        raw = await self._connect()
        self._opened += 1
        return raw

    async def acquire(self) -> asyncpg.Connection[asyncpg.Record]:
        """An idle connection (the most recently used), or a new one below the ceiling; waits at most the
        timeout for one to come back. TimeoutError when none did."""
        if self._closed:
            raise asyncpg.InterfaceError("the pool is closed")
        if self._slots.locked():  # every connection is lent out: wait, bounded
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # free: no wait, so no timer to arm
        try:
            while self._idle:
                raw = self._idle.pop()
                if not raw.is_closed():
                    return raw
                self._opened -= 1
            return await self._new()
        except BaseException:
            self._slots.release()
            raise

    async def release(self, raw: asyncpg.Connection[asyncpg.Record]) -> None:
        """Take a connection back: a closed one is dropped, an open transaction rolled back (bounded by the
        round trip's own timeout; a rollback that fails drops the connection)."""
        try:
            if not raw.is_closed() and raw.is_in_transaction():
                try:
                    await raw.execute("ROLLBACK")
                except BaseException:
                    raw.terminate()
                    raise
            if raw.is_closed() or self._closed:
                self._opened -= 1
                if not raw.is_closed():
                    await raw.close(timeout=self._timeout)
            else:
                self._idle.append(raw)
        finally:
            self._slots.release()

    def size(self) -> int:
        return self._opened

    def idle(self) -> int:
        return len(self._idle)

    def max_size(self) -> int:
        return self._max_size

    async def close(self) -> None:
        """Wait for every connection lent out to come back, then close them all."""
        self._closed = True
        for _ in range(self._max_size):
            await self._slots.acquire()
        while self._idle:
            raw = self._idle.pop()
            self._opened -= 1
            await raw.close(timeout=self._timeout)

    def terminate(self) -> None:
        """Close the idle connections at once; those lent out are dropped when they come back."""
        self._closed = True
        while self._idle:
            self._idle.pop().terminate()
            self._opened -= 1
