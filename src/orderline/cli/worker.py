"""`orderline worker`: the background work, in one process of its own: webhook delivery and recovery."""

from __future__ import annotations

import asyncio
import signal

from orderline import __version__, bootstrap
from orderline.application.use_cases import UseCases
from orderline.cli.common import DatabaseOption, database_of, log, settings_of, with_use_cases


def worker(database_url: DatabaseOption = None) -> None:
    """Relay events to webhook subscriptions, and finish interrupted payments and refunds, until SIGTERM.

    Any number may run against one PostgreSQL database; they share the work. `serve` on SQLite runs one
    itself (unless --no-worker). SIGTERM or Ctrl-C stops taking work and waits for the deliveries in flight.
    """
    settings = settings_of(database_url=database_url)

    async def work(use_cases: UseCases) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log.info("worker starting", version=__version__, database=str(database_of(settings)))
        await bootstrap.run_worker(settings, use_cases, stop)

    with_use_cases(settings, work)
