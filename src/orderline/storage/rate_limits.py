"""Rate-limit counters in PostgreSQL: one fixed window per key, counted and read in one round trip.

Several web processes without Redis share their limits here (ADR 0035). Each count is one upsert on a
pool of its own, so counting never waits behind the requests' transactions, and the database's clock
times every window, whatever process counts. Expired windows are removed by the same statement, once in a
while. Any failure is DatabaseUnavailable: the caller lets the request through uncounted.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from orderline.application.errors import DatabaseUnavailable

# Connections per process. A count holds one for a round trip (well under a millisecond), so a few serve
# thousands of requests a second; the caller waits for a free one no longer than for an answer.
CONNECTIONS = 4
# How often (seconds) a process removes expired windows, with the count it is making anyway.
SWEEP_EVERY = 60.0
# Backstop only: the caller gives up long before (ORDERLINE_RATE_LIMIT_DB_TIMEOUT).
COMMAND_TIMEOUT = 5.0

# A window that has ended is opened anew by the same upsert. Every SET expression sees the row as it was,
# so count and ends_at agree. now() is when the statement began: one that waited for another's new window
# may have begun before it, hence "at most the window" left. $3: also remove the other keys' windows that
# have ended (never this key's: one statement may not change a row twice).
_HIT = """
WITH swept AS (
    DELETE FROM rate_limit_windows WHERE $3::boolean AND ends_at < now() AND key <> $1
)
INSERT INTO rate_limit_windows AS w (key, count, ends_at)
VALUES ($1, 1, now() + make_interval(secs => $2::float8))
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN w.ends_at > now() THEN w.count + 1 ELSE 1 END,
    ends_at = CASE WHEN w.ends_at > now() THEN w.ends_at ELSE excluded.ends_at END
RETURNING count, least(extract(epoch FROM ends_at - now())::float8, $2::float8) AS seconds_left
"""

_FAILURES = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def _keep_session(_connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """No reset query on release: no session state is ever set on these connections (ADR 0032)."""


def _retrieve(counting: asyncio.Future[tuple[int, float]]) -> None:
    # Nobody may be waiting any more (the caller's deadline passed): the failure was reported, or will not be.
    if not counting.cancelled():
        counting.exception()


class PostgresRateCounters:
    """The RateCounters port on PostgreSQL's ``rate_limit_windows`` (an UNLOGGED table)."""

    connections = CONNECTIONS

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], sweep_every: float = SWEEP_EVERY) -> None:
        self._pool = pool
        self._sweep_every = sweep_every
        self._next_sweep = time.monotonic() + sweep_every

    @classmethod
    async def open(cls, dsn: str, *, connect_within: float, sweep_every: float = SWEEP_EVERY) -> PostgresRateCounters:
        """Counters on the PostgreSQL at ``dsn``, with a pool of their own; ``close()`` them."""
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=CONNECTIONS,
                timeout=connect_within,
                command_timeout=COMMAND_TIMEOUT,
                reset=_keep_session,
            )
        except TimeoutError as exc:
            raise DatabaseUnavailable.timed_out(connect_within, "connecting the rate-limit counters") from exc
        return cls(pool, sweep_every)

    async def close(self) -> None:
        # A sick database must not hold up a shutdown: close politely for a moment, then drop the connections.
        try:
            await asyncio.wait_for(self._pool.close(), COMMAND_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + self._sweep_every
        # A caller that stops waiting (its deadline) must get its answer at once, but asyncpg, cancelled
        # mid-query, waits for the server before it lets the connection go: the count runs in a task of its
        # own, which a stalled server holds at most COMMAND_TIMEOUT while the caller has moved on.
        counting = asyncio.ensure_future(self._count(key, window, sweep))
        counting.add_done_callback(_retrieve)
        return await asyncio.shield(counting)

    async def _count(self, key: str, window: int, sweep: bool) -> tuple[int, float]:
        try:
            row = await self._pool.fetchrow(_HIT, key, float(window), sweep)
        except _FAILURES as exc:
            raise DatabaseUnavailable(f"rate-limit counters: {type(exc).__name__}: {exc}") from exc
        if row is None:  # an upsert with RETURNING always returns its row
            raise DatabaseUnavailable("rate-limit counters: the upsert returned no row")
        return int(row["count"]), float(row["seconds_left"])
