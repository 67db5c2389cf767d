"""Recovery: finish, in the background, what a crash or an unreachable gateway left half done."""

from __future__ import annotations

import asyncio

import structlog

from orderline.application.errors import DatabaseUnavailable
from orderline.application.payments import Payments
from orderline.application.refunds import Refunds

log = structlog.get_logger("orderline.recovery")


class Recovery:
    """Payments left PROCESSING are asked again and recorded; PENDING refunds are asked about and settled."""

    def __init__(self, payments: Payments, refunds: Refunds) -> None:
        self._payments = payments
        self._refunds = refunds

    async def run_once(self) -> None:
        await self._payments.recover()
        await self._refunds.settle_pending()

    async def run(self, interval: float) -> None:
        """Every ``interval`` seconds, so that nothing a crash or a lost callback left stays stuck for long.

        A database that stops answering is logged once when it starts and once when it ends, not every
        round: the rounds go on, and the first that gets through settles what waited.
        """
        unavailable = False
        while True:
            try:
                await self.run_once()
            except DatabaseUnavailable as exc:
                if not unavailable:
                    log.warning("recovery waits: the database is unavailable", error=str(exc))
                unavailable = True
            except Exception:
                log.exception("recovery round failed; trying again next round")
            else:
                if unavailable:
                    log.info("recovery goes on: the database answers again")
                unavailable = False
            await asyncio.sleep(interval)
