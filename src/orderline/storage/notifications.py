"""PostgreSQL LISTEN for live streams: one connection of its own per process, listening on `orderline_outbox`.

The outbox writer sends `pg_notify('orderline_outbox', seq)` in the writing transaction, so the notification
arrives once the event has committed, from any process or host. A notification is only a wake-up: streams
read the outbox themselves, and a lost one (a dropped connection, a restart) only delays an event until the
next poll. After a reconnect the bell rings once, for whatever was missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog

from orderline.storage.outbox import CHANNEL

log = structlog.get_logger("orderline.stream")

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # waits between attempts to listen again, the last repeated


def reconnect_wait(failures: int) -> float:
    """Seconds to wait before listening again after ``failures`` failed attempts in a row (at least one)."""
    return RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS)) - 1]


class PostgresOutboxListener:
    """Rings ``ring`` on every notification on CHANNEL; reconnects with backoff when its connection is lost."""

    def __init__(self, dsn: str, ring: Callable[[], None], connect_timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._ring = ring
        self._connect_timeout = connect_timeout
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place, or the first attempt failed."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._connect_timeout + 1):
                await self._listening.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                self._listening.set()  # the first stream need not wait: it polls meanwhile
                failures += 1
                log.warning("cannot LISTEN for outbox events; streams poll meanwhile", error=str(exc))
                await asyncio.sleep(reconnect_wait(failures))
                continue
            try:
                connection.add_termination_listener(functools.partial(_set, lost))
                await connection.add_listener(CHANNEL, self._notified)
                if failures:
                    log.info("listening for outbox events again")
                    self._ring()  # what was written while no one listened
                failures = 0
                self._listening.set()
                await lost.wait()
                log.warning("lost the LISTEN connection; streams poll until it is back")
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), self._connect_timeout)
            failures += 1
            await asyncio.sleep(RECONNECT_SECONDS[0])

    def _notified(self, *_args: Any) -> None:
        self._ring()


def _set(event: asyncio.Event, *_args: Any) -> None:
    event.set()
