"""Circuit breaker: stop calling a dependency once it fails, and let one trial call find out when it is back."""

from __future__ import annotations

import enum
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

log = structlog.get_logger("orderline.http.circuit")

T = TypeVar("T")


class CircuitState(enum.StrEnum):
    """What a breaker does with the next call."""

    CLOSED = "closed"  # makes it
    OPEN = "open"  # refuses it at once: the dependency failed less than a cooldown ago
    HALF_OPEN = "half-open"  # makes it as the one trial call, and refuses the others until the trial ends


class CircuitOpen(Exception):
    """The breaker refused a call without making it."""


class CircuitBreaker:
    """Closed until the dependency fails; then open for ``cooldown`` seconds; then half-open: one trial call decides.

    The dependency fails when a call fails and no call is answered from the moment it began until every
    call in flight with it has ended. An answer in that time shows the dependency was answering, and the
    failure belongs to that call (its connection, or a process too busy to read the answer in time); a
    frozen dependency answers none of them, and the circuit opens within one call's wait. Only the trial
    changes a circuit that has opened; a call made before and answering late changes nothing.

    A caller that may fail open (go on without the answer) loses little by skipping the dependency for a
    cooldown, and gains that no call waits on it meanwhile. Opening logs an error and closing an info
    line, once per outage; the trials in between log at debug level.
    """

    def __init__(
        self,
        name: str,
        *,
        cooldown: float,
        failures: tuple[type[BaseException], ...],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._cooldown = cooldown
        self._failures = failures  # what counts as the dependency failing; any other error passes through
        self._clock = clock
        self._open_until: float | None = None
        self._trial_running = False
        self._last_answer_at = -math.inf
        self._numbers = itertools.count()
        self._in_flight: set[int] = set()  # calls made while closed, not ended yet
        self._suspicion: _Suspicion | None = None

    @property
    def state(self) -> CircuitState:
        if self._open_until is None:
            return CircuitState.CLOSED
        if self._clock() < self._open_until:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation()``'s answer, or CircuitOpen at once when the circuit does not allow the call."""
        if self._admit_trial():
            return await self._trial(operation)
        number, began = next(self._numbers), self._clock()
        self._in_flight.add(number)
        try:
            answer = await operation()
        except self._failures as exc:
            self._in_flight.discard(number)
            if self._suspicion is None and self._last_answer_at < began and self._open_until is None:
                self._suspicion = _Suspicion(_text(exc), set(self._in_flight))
            self._judge()
            raise
        except BaseException:
            self._in_flight.discard(number)  # cancelled, or our own mistake: no verdict on the dependency
            self._judge()
            raise
        self._in_flight.discard(number)
        self._last_answer_at = self._clock()
        self._suspicion = None  # the dependency answered: whatever failed meanwhile, it was not down
        return answer

    def _admit_trial(self) -> bool:
        """Whether the call is the half-open trial; CircuitOpen when it may not be made at all."""
        state = self.state
        if state is CircuitState.CLOSED:
            return False
        if state is CircuitState.OPEN or self._trial_running:
            raise CircuitOpen(f"{self.name}: circuit {state}")
        self._trial_running = True
        log.debug("circuit half-open: one trial call", circuit=self.name)
        return True

    async def _trial(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            answer = await operation()
        except self._failures as exc:
            self._trial_running = False
            self._open_until = self._clock() + self._cooldown
            log.debug("circuit open again: the trial call failed", circuit=self.name, error=_text(exc))
            raise
        except BaseException:
            self._trial_running = False  # no verdict: the next call is the trial
            raise
        self._trial_running = False
        self._open_until = None
        self._last_answer_at = self._clock()
        log.info("circuit closed: calls go through again", circuit=self.name)
        return answer

    def _judge(self) -> None:
        """Open the circuit once every call in flight with the suspected failure has ended unanswered."""
        suspicion = self._suspicion
        if suspicion is None or not suspicion.waiting.isdisjoint(self._in_flight):
            return
        self._suspicion = None
        self._open_until = self._clock() + self._cooldown
        log.error(
            "circuit open: calls fail fast until a trial call succeeds",
            circuit=self.name,
            trial_every_seconds=self._cooldown,
            error=suspicion.error,
        )


@dataclass(slots=True)
class _Suspicion:
    """A failure with no answer since its call began, waiting for the calls that were in flight with it."""

    error: str
    waiting: set[int]


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
