"""The dashboard's overview: the last 30 days by day, their orders by status, cancellations and their reasons,
refunds waiting or failed, and low stock. Every figure over orders is bounded by the 30 days (an index on
``orders.created_at``), so the page costs what the window holds, never the whole table (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from orderline.application.dashboard import LOW_STOCK, LOW_STOCK_LIMIT
from orderline.application.ports import Clock, Database, DayFigures
from orderline.application.principal import Principal, Scope
from orderline.domain.money import Money
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus

DAYS = 30


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    orders: int
    cancelled: int
    revenue: dict[str, Money]  # per currency: captured less refunded that day


@dataclass(frozen=True, slots=True)
class OverviewFigures:
    days: list[Day]  # every one of the last DAYS days, oldest first, today last
    by_status: dict[str, int]  # of the orders placed in those days, by the status they are in now
    cancel_reasons: dict[str, int]  # of the orders placed in those days that are CANCELLED now
    refunds: dict[str, int]  # PENDING and FAILED refunds, however old
    low_stock: list[Pet]

    @property
    def today(self) -> Day:
        return self.days[-1]

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
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def figures(self, principal: Principal) -> OverviewFigures:
        principal.require(Scope.SUPPORT)
        now = self._clock.now()
        first = now.date() - timedelta(days=DAYS - 1)
        since = datetime.combine(first, time(0), tzinfo=now.tzinfo)
        async with self._db.snapshot(principal.tenant) as uow:
            per_day = {figures.day: figures for figures in await uow.figures.per_day(since)}
            by_status_and_reason = await uow.figures.by_status(since)
            refunds = await uow.figures.refunds_by_status()
            low = await uow.pets.low_stock(LOW_STOCK, LOW_STOCK_LIMIT)
        days = [
            _day(per_day.get(first + timedelta(days=n), DayFigures(first + timedelta(days=n)))) for n in range(DAYS)
        ]
        by_status, reasons = _by_status(by_status_and_reason), _cancel_reasons(by_status_and_reason)
        return OverviewFigures(days, by_status, reasons, refunds, low)


def _day(figures: DayFigures) -> Day:
    revenue = {currency: Money(minor, currency) for currency, minor in sorted(figures.net_minor.items())}
    return Day(figures.day, figures.orders, figures.cancelled, revenue)


def _by_status(counts: dict[tuple[str, str | None], int]) -> dict[str, int]:
    by_status: dict[str, int] = {}
    for (status, _reason), n in sorted(counts.items(), key=lambda item: item[0][0]):
        by_status[status] = by_status.get(status, 0) + n
    return by_status


def _cancel_reasons(counts: dict[tuple[str, str | None], int]) -> dict[str, int]:
    """The reasons of the cancelled orders, the commonest first."""
    reasons: dict[str, int] = {}
    for (status, reason), n in counts.items():
        if status == OrderStatus.CANCELLED:
            reasons[reason or "UNKNOWN"] = reasons.get(reason or "UNKNOWN", 0) + n
    return dict(sorted(reasons.items(), key=lambda item: -item[1]))
