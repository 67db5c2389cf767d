"""Rate-limit counters on a real redis-server of the test's own: made slow, frozen, or replaced by a black hole.

The bounds on elapsed time are generous (several times what the behaviour needs): these tests check that
nothing waits in line or without end, not how fast anything is.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from orderline.http.circuit import CircuitBreaker, CircuitState
from orderline.http.counters import Decision, LimiterUnavailable
from orderline.http.redis_counters import REDIS_FAILURES, RedisLimiter, redis_limiter
from tests.redis_server import RedisServer, black_hole, redis_server, slow_to_connect

CONCURRENT = 20


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as running:
        yield running


@asynccontextmanager
async def counters(url: str, answer_within: float) -> AsyncIterator[RedisLimiter]:
    """Counters under a prefix of their own, with a breaker that stays open longer than any test."""
    breaker = CircuitBreaker("test counters", cooldown=60, failures=REDIS_FAILURES)
    async with redis_limiter(url, f"test:{uuid.uuid4().hex}:", answer_within=answer_within, breaker=breaker) as limiter:
        yield limiter


async def hit_together(limiter: RedisLimiter, key: str = "k") -> list[Decision | BaseException]:
    return await asyncio.gather(*(limiter.hit(key, 100, 60) for _ in range(CONCURRENT)), return_exceptions=True)


async def test_concurrent_requests_connect_side_by_side_not_one_after_another(server: RedisServer) -> None:
    # Each new connection takes 0.2 s. Made one after another, 20 of them would take 4 s and most
    # requests would give up at the 1 s timeout; made side by side, all are done in about 0.2 s.
    async with slow_to_connect(server, delay=0.2) as url, counters(url, answer_within=1.0) as limiter:
        decisions = await hit_together(limiter)

        assert all(isinstance(decision, Decision) for decision in decisions), decisions
        assert sorted(d.remaining for d in decisions if isinstance(d, Decision)) == list(range(80, 100))
        assert limiter.circuit is CircuitState.CLOSED


async def test_an_answer_that_came_while_the_process_was_stalled_is_used(server: RedisServer) -> None:
    # A busy event loop, a garbage collection or a CPU taken by other processes can stall this process past
    # the deadline while Redis answers in time: the answer is there, and must win over the deadline.
    async with counters(server.url, answer_within=0.2) as limiter:
        await limiter.hit("k", 100, 60)
        server.freeze()
        hit = asyncio.create_task(limiter.hit("k", 100, 60))
        await asyncio.sleep(0.05)  # the script is sent, and waits for the frozen server
        server.thaw()

        time.sleep(0.3)  # noqa: ASYNC251  # the stall: nothing in this process runs while Redis answers
        decision = await hit

        assert decision.remaining == 98
        assert limiter.circuit is CircuitState.CLOSED


async def test_a_request_whose_process_stalled_before_it_asked_redis_is_still_counted(server: RedisServer) -> None:
    # The deadline has started, but the process stalls before the script is even sent: that says nothing
    # about Redis, as a fresh process under its first burst of requests showed (a 330 ms stall).
    async with counters(server.url, answer_within=0.2) as limiter:
        hit = asyncio.create_task(limiter.hit("k", 100, 60))
        await asyncio.sleep(0)  # the call has begun, and waits for its turn to be sent

        time.sleep(0.5)  # noqa: ASYNC251  # the stall
        decision = await hit

        assert decision.remaining == 99
        assert limiter.circuit is CircuitState.CLOSED


async def test_concurrent_requests_to_a_frozen_redis_each_wait_one_timeout_at_most(server: RedisServer) -> None:
    async with counters(server.url, answer_within=0.2) as limiter:
        await limiter.hit("k", 100, 60)
        server.freeze()

        started = time.monotonic()
        outcomes = await hit_together(limiter)
        elapsed = time.monotonic() - started

    assert all(isinstance(outcome, LimiterUnavailable) for outcome in outcomes), outcomes
    assert elapsed < 2.0  # 0.2 s side by side; 4 s and more in line


async def test_concurrent_requests_to_a_port_that_never_answers_each_wait_one_timeout_at_most() -> None:
    with black_hole() as url:
        async with counters(url, answer_within=0.2) as limiter:
            started = time.monotonic()
            outcomes = await hit_together(limiter)
            elapsed = time.monotonic() - started

    assert all(isinstance(outcome, LimiterUnavailable) for outcome in outcomes), outcomes
    assert elapsed < 2.0


async def test_once_redis_has_failed_requests_pass_without_asking_it(server: RedisServer) -> None:
    async with counters(server.url, answer_within=0.2) as limiter:
        server.freeze()
        with pytest.raises(LimiterUnavailable, match="no answer within"):
            await limiter.hit("k", 100, 60)

        with pytest.raises(LimiterUnavailable, match="circuit open"):
            await limiter.hit("k", 100, 60)

        assert limiter.circuit is CircuitState.OPEN
