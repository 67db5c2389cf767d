"""Circuit breaker: stop calling a dependency once it fails, and let one trial call find out when it is back."""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
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
    """Closed until a call fails; then open for ``cooldown`` seconds; then half-open: one trial call decides.

    One failure opens the circuit: a caller that may fail open (go on without the answer) loses little
    by skipping the dependency for a cooldown, and gains that no other call waits on it meanwhile.
    Only the trial's outcome changes a half-open circuit; a call made before the circuit opened and
    answering late changes nothing. Opening logs an error and closing an info line, once per outage;
    the trials in between log at debug level.
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

    @property
    def state(self) -> CircuitState:
        if self._open_until is None:
            return CircuitState.CLOSED
        if self._clock() < self._open_until:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation()``'s answer, or CircuitOpen at once when the circuit does not allow the call."""
        trial = self._admit()
        try:
            answer = await operation()
        except self._failures as exc:
            self._failed(trial, exc)
            raise
        except BaseException:
            # Cancelled, or our own mistake: no verdict on the dependency, so the next call may try.
            if trial:
                self._trial_running = False
            raise
        if trial:
            self._close()
        return answer

    def _admit(self) -> bool:
        """Whether the call is the half-open trial; CircuitOpen when it may not be made at all."""
        state = self.state
        if state is CircuitState.CLOSED:
            return False
        if state is CircuitState.OPEN or self._trial_running:
            raise CircuitOpen(f"{self.name}: circuit {state}")
        self._trial_running = True
        log.debug("circuit half-open: one trial call", circuit=self.name)
        return True

    def _failed(self, trial: bool, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if trial:
            self._trial_running = False
            self._open_until = self._clock() + self._cooldown
            log.debug("circuit open again: the trial call failed", circuit=self.name, error=error)
        elif self._open_until is None:
            self._open_until = self._clock() + self._cooldown
            log.error(
                "circuit open: calls fail fast until a trial call succeeds",
                circuit=self.name,
                trial_every_seconds=self._cooldown,
                error=error,
            )

    def _close(self) -> None:
        self._trial_running = False
        self._open_until = None
        log.info("circuit closed: calls go through again", circuit=self.name)
