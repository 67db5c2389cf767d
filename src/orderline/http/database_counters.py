"""Fixed-window counters in the database (several web processes, no Redis): a bounded wait and a circuit breaker.

The counting itself is a storage adapter behind the RateCounters port (storage/rate_limits.py). This side
treats it as Redis is treated (http/redis_counters.py): every request waits for it at most
``ORDERLINE_RATE_LIMIT_DB_TIMEOUT``, at most as many calls run at once as it has connections, and once it
has failed the breaker stops asking it for ``ORDERLINE_RATE_LIMIT_DB_COOLDOWN`` seconds. Whatever fails,
the caller gets LimiterUnavailable at once and lets the request through.
"""

from __future__ import annotations

from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import RateCounters
from orderline.http.circuit import CircuitBreaker, CircuitOpen, CircuitState
from orderline.http.counters import Decision, LimiterUnavailable
from orderline.http.deadline import Deadline, NoFreeSlot

# What counts as the database failing: the adapter's refusal, and our deadline (a TimeoutError, an OSError).
DATABASE_FAILURES: tuple[type[BaseException], ...] = (DatabaseUnavailable, OSError)


class DatabaseLimiter:
    """Counters shared by every process on one database, asked within a deadline behind a circuit breaker."""

    def __init__(self, counters: RateCounters, *, answer_within: float, breaker: CircuitBreaker) -> None:
        self._counters = counters
        self._deadline = Deadline(answer_within, slots=counters.connections)
        self._breaker = breaker

    @property
    def circuit(self) -> CircuitState:
        return self._breaker.state

    async def hit(self, key: str, limit: int, window: int) -> Decision:
        try:
            count, seconds_left = await self._breaker.call(
                lambda: self._deadline.run(lambda: self._counters.hit(key, window))
            )
        except (CircuitOpen, NoFreeSlot) as exc:
            raise LimiterUnavailable(str(exc)) from None
        except DATABASE_FAILURES as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return Decision.of(count, limit, seconds_left)
