"""A budget for repetitive log lines: one per kind per interval, with a count of those held back."""

from __future__ import annotations

import time
from collections.abc import Callable

# Beyond this many kinds, forget them all: a budget must not grow with what attackers make us log.
MAX_KINDS = 256


class LogBudget:
    """Lets the first line of each kind through, then at most one per ``interval`` seconds."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._kinds: dict[str, tuple[float, int]] = {}  # kind -> (when the last line went out, lines held back)

    def __len__(self) -> int:
        """How many kinds it remembers."""
        return len(self._kinds)

    @property
    def interval(self) -> float:
        return self._interval

    def allow(self, kind: str) -> int | None:
        """None: hold this line back. A number: log it, saying that many of its kind were held back before it."""
        now = self._clock()
        last = self._kinds.get(kind)
        if last is not None and now - last[0] < self._interval:
            self._kinds[kind] = (last[0], last[1] + 1)
            return None
        if len(self._kinds) >= MAX_KINDS:
            self._kinds.clear()
        self._kinds[kind] = (now, 0)
        return 0 if last is None else last[1]
