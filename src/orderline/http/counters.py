"""Fixed-window counters: the Limiter port, the Decision it returns, and the in-memory counters of one process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Decision:
    """One counted request: allowed or not, and what the RateLimit-* headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # whole seconds until the window ends, at least 1

    @classmethod
    def of(cls, count: int, limit: int, seconds_left: float) -> Decision:
        # Rounded to the millisecond first: (start + window) - start can exceed window by a float's last bit.
        return cls(count <= limit, limit, max(0, limit - count), max(1, math.ceil(round(seconds_left, 3))))

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }

    def header_lines(self) -> list[tuple[bytes, bytes]]:
        """The same headers as an ASGI answer carries them: lower-cased names, Latin-1 bytes."""
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_after).encode()),
        ]


class LimiterUnavailable(Exception):
    """The shared counters cannot be reached; the request is let through uncounted."""


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> Decision:
        """Count one request against ``key``'s window of ``window`` seconds, opening one if none is open."""
        ...


class MemoryLimiter:
    """Counters of one process. Expired windows are dropped at most every ``sweep_every`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_every: float = 60.0) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        self._next_sweep = clock() + sweep_every
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, when the window ends)

    def __len__(self) -> int:
        return len(self._windows)

    async def hit(self, key: str, limit: int, window: int) -> Decision:
        now = self._clock()
        if now >= self._next_sweep:
            self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
            self._next_sweep = now + self._sweep_every
        count, ends = self._windows.get(key, (0, now))
        if ends <= now:
            count, ends = 0, now + window
        self._windows[key] = (count + 1, ends)
        return Decision.of(count + 1, limit, ends - now)
