"""The dashboard's overview: the last 30 days by day, orders by status, cancellations and their reasons,
refunds waiting or failed, and low stock (the admin figures of GET /v1/admin/dashboard, and more)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from orderline.application.dashboard import Dashboard, DashboardStats
from orderline.application.ports import Clock, Database, DayFigures
from orderline.application.principal import Principal, Scope
from orderline.domain.money import Money

DAYS = 30


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    orders: int
    cancelled: int
    revenue: dict[str, Money]  # per currency: captured less refunded that day


@dataclass(frozen=True, slots=True)
class OverviewFigures:
    stats: DashboardStats
    days: list[Day]  # every one of the last DAYS days, oldest first, today last
    cancel_reasons: dict[str, int]  # of the orders placed in those days that are CANCELLED now
    refunds: dict[str, int]  # PENDING and FAILED refunds, however old

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def cancelled(self) -> int:
        return sum(day.cancelled for day in self.days)

    @property
    def cancellation_rate(self) -> float:
        return round(self.cancelled / self.orders, 4) if self.orders else 0.0


class Overview:
    def __init__(self, db: Database, clock: Clock, dashboard: Dashboard) -> None:
        self._db = db
        self._clock = clock
        self._dashboard = dashboard

    async def figures(self, principal: Principal) -> OverviewFigures:
        principal.require(Scope.ADMIN)
        stats = await self._dashboard.stats(principal)
        today = self._clock.now().date()
        first = today - timedelta(days=DAYS - 1)
        since = datetime.combine(first, time(0), tzinfo=stats.today.since.tzinfo)
        async with self._db.snapshot() as uow:
            per_day = {figures.day: figures for figures in await uow.figures.per_day(since)}
            reasons = await uow.figures.cancel_reasons(since)
            refunds = await uow.figures.refunds_by_status()
        days = [
            _day(per_day.get(first + timedelta(days=n), DayFigures(first + timedelta(days=n)))) for n in range(DAYS)
        ]
        return OverviewFigures(stats, days, dict(sorted(reasons.items(), key=lambda r: -r[1])), refunds)


def _day(figures: DayFigures) -> Day:
    revenue = {currency: Money(minor, currency) for currency, minor in sorted(figures.net_minor.items())}
    return Day(figures.day, figures.orders, figures.cancelled, revenue)
