"""Fixed-window counters in Redis: one atomic script, a bounded wait, and a circuit breaker in front.

A rate limiter must not turn a sick Redis into a slow service, so every request waits for Redis at
most ``ORDERLINE_REDIS_TIMEOUT`` (connecting included), connections are made side by side rather than
in line, and once Redis has failed the breaker stops asking it for ``ORDERLINE_REDIS_COOLDOWN``
seconds. Whatever fails, the caller gets LimiterUnavailable at once and lets the request through.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from orderline.http.circuit import CircuitBreaker, CircuitOpen, CircuitState
from orderline.http.counters import Decision, LimiterUnavailable
from orderline.http.deadline import Deadline, NoFreeSlot

T = TypeVar("T")

# What counts as Redis failing: its client's errors, a socket's that it did not wrap, and our deadline
# (DeadlineExceeded is a TimeoutError, so an OSError). Waiting for a free connection is not Redis's fault.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)
# Connections per process. A counted request holds one for a round trip (well under a millisecond),
# so this many serve thousands of requests a second; more would only pile up on a Redis that is slow.
REDIS_CONNECTIONS = 50
# redis-py's own socket timeouts are only a backstop this much behind our deadline: they use asyncio's
# timeout, which cancels an answer that arrived while this process was stalled (http/deadline.py).
BACKSTOP_SECONDS = 1.0

# One round trip, atomic: count, and start the window's expiry if it has none (a new window).
_FIXED_WINDOW = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisLimiter:
    """Counters shared by every process on one Redis; windows are keys that expire on Redis's clock."""

    def __init__(self, redis: Redis, prefix: str, *, answer_within: float, breaker: CircuitBreaker) -> None:
        self._redis = redis
        self._script = redis.register_script(_FIXED_WINDOW)
        self._prefix = prefix + "rate:"
        # Bounds both the wait and the calls at once, which never exceed the connections in the pool.
        self._deadline = Deadline(answer_within, slots=REDIS_CONNECTIONS)
        self._breaker = breaker

    @property
    def circuit(self) -> CircuitState:
        return self._breaker.state

    async def hit(self, key: str, limit: int, window: int) -> Decision:
        count, ttl_ms = await self._ask(lambda: self._script(keys=[self._prefix + key], args=[window * 1000]))
        return Decision.of(int(count), limit, int(ttl_ms) / 1000)

    async def prepare(self) -> None:
        """Load the script before the first request, and open the circuit now if Redis cannot be reached."""
        # redis-py types its commands for both of its clients ("Awaitable[str] | str"); this one is asyncio's.
        await self._ask(lambda: cast("Awaitable[str]", self._redis.script_load(_FIXED_WINDOW)))

    async def _ask(self, command: Callable[[], Awaitable[T]]) -> T:
        try:
            return await self._breaker.call(lambda: self._deadline.run(command))
        except (CircuitOpen, NoFreeSlot) as exc:
            raise LimiterUnavailable(str(exc)) from None
        except REDIS_FAILURES as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc


@asynccontextmanager
async def redis_limiter(
    url: str, prefix: str, *, answer_within: float, breaker: CircuitBreaker
) -> AsyncIterator[RedisLimiter]:
    """Counters on the Redis at ``url``, asked for at most ``answer_within`` seconds; closed when the block ends."""
    # Not redis-py's default ConnectionPool: its get_connection() connects while holding the pool's lock
    # (redis 7.1, redis/asyncio/connection.py), so one connect to a Redis that does not answer makes every
    # other request queue behind it. BlockingConnectionPool takes its lock only to hand out a connection
    # and connects outside it, so connects run side by side, each bounded by the timeout.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=answer_within,  # for a free connection; never waited for, the deadline's slots come first
        socket_timeout=answer_within + BACKSTOP_SECONDS,
        socket_connect_timeout=answer_within + BACKSTOP_SECONDS,
        # No CLIENT SETINFO on connecting: a round trip less for a new connection, within the deadline.
        lib_name=None,
        lib_version=None,
        # One immediate retry on a connection Redis dropped (a restart, an idle timeout), which fails at once;
        # none on a timeout, and no backoff: every request waits on this.
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
    redis = Redis.from_pool(pool)
    try:
        yield RedisLimiter(redis, prefix, answer_within=answer_within, breaker=breaker)
    finally:
        # Closing a connection waits at most its connect timeout; a sick Redis must not fail the shutdown.
        with contextlib.suppress(*REDIS_FAILURES):
            await redis.aclose()
