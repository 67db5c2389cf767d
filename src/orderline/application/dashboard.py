"""The admin dashboard: order counts by status, today's and the week's orders and revenue, low stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from orderline.application.ports import Clock, Database, OrderCounts, UnitOfWork
from orderline.application.principal import Principal, Scope
from orderline.domain.money import Money
from orderline.domain.pet import Pet

LOW_STOCK = 1  # a pet with this many free units or fewer is "low"
LOW_STOCK_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of time up to now: the orders created in it and the money that moved in it."""

    since: datetime
    counts: OrderCounts
    revenue: dict[str, Money]  # per currency: captured less refunded, since ``since``

    @property
    def orders(self) -> int:
        return self.counts.orders

    @property
    def cancelled(self) -> int:
        return self.counts.cancelled

    @property
    def cancellation_rate(self) -> float:
        return round(self.cancelled / self.orders, 4) if self.orders else 0.0


@dataclass(frozen=True, slots=True)
class DashboardStats:
    orders_by_status: dict[str, int]
    today: Window
    last_7_days: Window
    low_stock: list[Pet]


class Dashboard:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def stats(self, principal: Principal) -> DashboardStats:
        principal.require(Scope.ADMIN)
        now = self._clock.now()
        midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        week = now - timedelta(days=7)
        async with self._db.snapshot(principal.tenant) as uow:
            by_status = await uow.orders.count_by_status()
            today = await _window(uow, midnight)
            last_7_days = await _window(uow, week)
            low = await uow.pets.low_stock(LOW_STOCK, LOW_STOCK_LIMIT)
        return DashboardStats(by_status, today, last_7_days, low)


async def _window(uow: UnitOfWork, since: datetime) -> Window:
    revenue = await uow.payments.net_captured_since(since)
    money = {currency: Money(minor, currency) for currency, minor in sorted(revenue.items())}
    return Window(since, await uow.orders.counts_since(since), money)
