"""Recovery: finish, in the background, what a crash or an unreachable gateway left half done."""

from __future__ import annotations

import asyncio

import structlog

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
        """Every ``interval`` seconds, so that nothing a crash or a lost callback left stays stuck for long."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("recovery round failed; trying again next round")
            await asyncio.sleep(interval)
