"""Deadlines for calls to a remote, timed fairly by a process that may stall, with a bound on calls at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The remote had not answered by the deadline: the call was cancelled."""


class NoFreeSlot(Exception):
    """Every slot stayed in use for the whole deadline: a sign of this process's load, not of the remote."""


class Deadline:
    """Runs each call within ``seconds``, at most ``slots`` of them at once (waiting for a slot counts).

    The deadline is timed by this process, which can stall (a busy event loop, a garbage collection, the
    CPU taken by another process) while the remote answers in time, or before the call was even sent:
    - not asyncio.timeout: after a stall the deadline and the answer come due in the same turn of the
      loop, and asyncio.timeout cancels a call whose answer has arrived. The call runs as a task of its
      own instead, and an answer that has arrived wins;
    - a deadline this process overslept by half its length or more (it stalled) is given once more.
    """

    def __init__(self, seconds: float, *, slots: int) -> None:
        self.seconds = seconds
        self._slots = asyncio.Semaphore(slots)
        self._slot_count = slots

    async def run(self, command: Callable[[], Awaitable[T]]) -> T:
        """``command()``'s answer or error; DeadlineExceeded or NoFreeSlot when it took too long."""
        started = False

        async def in_a_slot() -> T:
            nonlocal started
            async with self._slots:
                started = True
                return await command()

        loop = asyncio.get_running_loop()
        call = asyncio.ensure_future(in_a_slot())
        try:
            due = loop.time() + self.seconds
            await asyncio.wait({call}, timeout=self.seconds)
            if not call.done() and loop.time() - due >= self.seconds / 2:
                await asyncio.wait({call}, timeout=self.seconds)
        finally:
            if not call.done():
                call.cancel()
                await asyncio.wait({call})
        if not call.cancelled():
            return call.result()
        if not started:
            raise NoFreeSlot(f"all {self._slot_count} slots stayed in use for {self.seconds} s")
        raise DeadlineExceeded(f"no answer within {self.seconds} s")
