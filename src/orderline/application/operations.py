"""What an operator watches besides requests: business events committed, refunds still pending, the pool."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from orderline.application.business_events import BusinessCounts, EventName
from orderline.application.ports import Database, PoolUsage
from orderline.application.principal import PUBLIC

log = structlog.get_logger("orderline.operations")

# A scrape must answer when the database does not: it is when the numbers matter most.
PENDING_READ_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Readings:
    events: dict[tuple[EventName, str], int]  # committed by this process, by (event, cancel reason or '')
    refunds_pending: int | None  # in the database, for every process; None when it could not be read in time
    pool: PoolUsage


class Operations:
    """Read for the metrics scrape, which the HTTP layer guards with its own token: no principal here."""

    def __init__(self, db: Database, counts: BusinessCounts) -> None:
        self._db = db
        self._counts = counts

    async def readings(self) -> Readings:
        pool = self._db.usage()  # before our own read takes a connection
        return Readings(self._counts.snapshot(), await self._refunds_pending(), pool)

    async def _refunds_pending(self) -> int | None:
        try:
            # The count is every tenant's (the operator's gauge); the unit's tenant does not narrow it.
            async with asyncio.timeout(PENDING_READ_TIMEOUT_SECONDS), self._db.snapshot(PUBLIC) as uow:
                return await uow.payments.count_pending_refunds()
        except Exception as exc:  # noqa: BLE001 - any failure leaves the gauge out, never the whole scrape
            log.warning("refunds pending not read", error=f"{type(exc).__name__}: {exc}")
            return None
