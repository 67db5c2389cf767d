"""Rate-limit counters in PostgreSQL (several web processes, no Redis): one count per request, shared by every
process, windows timed by the database, expired windows removed; a stalled database is skipped at once.

Two PostgresRateCounters stand for two processes: each has a pool of its own, as each process has.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from orderline.http.circuit import CircuitBreaker, CircuitState
from orderline.http.counters import LimiterUnavailable
from orderline.http.database_counters import DATABASE_FAILURES, DatabaseLimiter
from orderline.storage.rate_limits import PostgresRateCounters
from tests.proxy import TcpProxy
from tests.support import ENGINES

Opener = Callable[..., Awaitable[PostgresRateCounters]]

pytestmark = pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)  # only PostgreSQL shares them


@pytest.fixture
async def open_counters(database_url: str) -> AsyncIterator[Opener]:
    opened: list[PostgresRateCounters] = []

    async def open_one(url: str = database_url, sweep_every: float = 60.0) -> PostgresRateCounters:
        counters = await PostgresRateCounters.open(url, connect_within=5, sweep_every=sweep_every)
        opened.append(counters)
        return counters

    yield open_one
    for counters in opened:
        await counters.close()


async def windows(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        return {row["key"]: row["count"] for row in await connection.fetch("SELECT key, count FROM rate_limit_windows")}
    finally:
        await connection.close()


async def test_two_processes_count_one_window_together(open_counters: Opener) -> None:
    first, second = await open_counters(), await open_counters()

    counts = [(await counters.hit("default:10.0.0.1", 60))[0] for _ in range(3) for counters in (first, second)]

    assert counts == [1, 2, 3, 4, 5, 6]


async def test_requests_counted_at_once_by_both_processes_each_get_their_own_count(
    open_counters: Opener,
) -> None:
    first, second = await open_counters(), await open_counters()

    answers = await asyncio.gather(*(counters.hit("write:u1", 60) for _ in range(20) for counters in (first, second)))

    assert sorted(count for count, _left in answers) == list(range(1, 41))
    assert all(50 < left <= 60 for _count, left in answers), answers


async def test_a_window_that_ended_opens_anew_and_other_keys_keep_theirs(
    open_counters: Opener,
) -> None:
    counters = await open_counters()
    for _ in range(3):
        await counters.hit("short", 1)
    await counters.hit("long", 60)

    await asyncio.sleep(1.1)
    short, long = await counters.hit("short", 1), await counters.hit("long", 60)

    assert short[0] == 1
    assert 0 < short[1] <= 1
    assert long[0] == 2
    assert long[1] < 59


async def test_windows_that_ended_are_removed_by_a_later_count(database_url: str, open_counters: Opener) -> None:
    counters = await open_counters(sweep_every=0)
    for key in ("gone-1", "gone-2"):
        await counters.hit(key, 1)
    await counters.hit("open", 60)

    await asyncio.sleep(1.1)
    await counters.hit("gone-1", 1)  # the key being counted is opened anew, never removed under its own count

    assert await windows(database_url) == {"gone-1": 1, "open": 1}


async def test_a_stalled_database_lets_requests_through_uncounted_at_once_then_is_skipped(
    database_url: str, open_counters: Opener
) -> None:
    async with TcpProxy(database_url) as proxy:
        counters = await open_counters(proxy.url)
        breaker = CircuitBreaker("test database counters", cooldown=60, failures=DATABASE_FAILURES)
        limiter = DatabaseLimiter(counters, answer_within=0.2, breaker=breaker)
        assert (await limiter.hit("k", 10, 60)).remaining == 9

        proxy.stall()
        began = time.monotonic()
        first = await asyncio.gather(*(limiter.hit("k", 10, 60) for _ in range(8)), return_exceptions=True)
        waited = time.monotonic() - began
        began = time.monotonic()
        with pytest.raises(LimiterUnavailable, match="circuit open"):
            await limiter.hit("k", 10, 60)
        skipped_in = time.monotonic() - began
        proxy.resume()

    assert all(isinstance(outcome, LimiterUnavailable) for outcome in first), first
    assert waited < 2
    assert limiter.circuit is CircuitState.OPEN
    assert skipped_in < 0.05
