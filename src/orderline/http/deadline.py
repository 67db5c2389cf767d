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
    """Runs each call within ``seconds``, at most ``slots`` of them at once; waiting for a slot has its own ``seconds``.

    Waiting for a slot is apart from the call's deadline, so that a call that got its slot late is not
    judged on the time others held it. The call's deadline is timed by this process, which can stall (a
    busy event loop, a garbage collection, the CPU taken by another process) while the remote answers in
    time, or before the call was even sent. So:
    - not asyncio.timeout: after a stall the deadline and the answer come due in the same turn of the
      loop, and asyncio.timeout cancels a call whose answer has arrived. The call runs as a task of its
      own instead, and an answer that has arrived wins;
    - a deadline this process overslept by half its length or more (it stalled) is given once more,
      for the slot as for the call.
    """

    def __init__(self, seconds: float, *, slots: int) -> None:
        self.seconds = seconds
        self._slots = asyncio.Semaphore(slots)
        self._slot_count = slots

    async def run(self, command: Callable[[], Awaitable[T]]) -> T:
        """``command()``'s answer or error; NoFreeSlot or DeadlineExceeded when either wait ran out."""
        await self._take_slot()
        try:
            return await self._within_deadline(command)
        finally:
            self._slots.release()

    async def _take_slot(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(2):  # the second wait only when this process overslept the first
            due = loop.time() + self.seconds
            try:
                async with asyncio.timeout(self.seconds):
                    await self._slots.acquire()  # gives the slot back if cancelled just as it got one
                return
            except TimeoutError:
                if loop.time() - due < self.seconds / 2:
                    break
        raise NoFreeSlot(f"all {self._slot_count} slots stayed in use for {self.seconds} s")

    async def _within_deadline(self, command: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        call = asyncio.ensure_future(command())
        try:
            due = loop.time() + self.seconds
            await asyncio.wait({call}, timeout=self.seconds)
            if not call.done() and loop.time() - due >= self.seconds / 2:
                await asyncio.wait({call}, timeout=self.seconds)
        finally:
            if not call.done():
                call.cancel()
                await asyncio.wait({call})
            if call.done() and not call.cancelled():
                call.exception()  # retrieved, even when this wait is itself cancelled; result() raises it below
        if call.cancelled():
            raise DeadlineExceeded(f"no answer within {self.seconds} s")
        return call.result()
