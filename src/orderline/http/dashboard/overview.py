"""The Overview page: the last 30 days, orders by status, cancellations, refunds to watch, low stock."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.enums import MediaType
from litestar.response import Template

from orderline.application.overview import OverviewFigures
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.domain.money import Money
from orderline.http.dashboard.charts import columns, rows
from orderline.http.dashboard.pages import page
from orderline.http.dashboard.session import STAFF_SESSION
from orderline.http.dependencies import Injected


@get("/", media_type=MediaType.HTML, opt={"auth": STAFF_SESSION})
async def overview(
    request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Injected[Principal]
) -> Template:
    figures = await use_cases.overview.figures(staff)
    return page(request, "overview.html", figures=figures, **_charts(figures))


def _charts(figures: OverviewFigures) -> dict[str, Any]:
    days = figures.days
    currency = _main_currency(figures)
    orders = [float(day.orders) for day in days]
    order_labels = [f"{day.day}: {day.orders} orders, {day.cancelled} cancelled" for day in days]
    revenue = [day.revenue.get(currency, Money.zero(currency)) for day in days]
    by_status, reasons = figures.by_status, figures.cancel_reasons
    return {
        "orders_chart": columns(orders, order_labels),
        "cancelled_chart": columns([float(day.cancelled) for day in days], order_labels, top=max(orders, default=0)),
        "revenue_chart": columns([float(money.amount_minor) for money in revenue],
                                 [f"{day.day}: {money} {currency}" for day, money in zip(days, revenue, strict=True)]),
        "currency": currency,
        "status_rows": rows([float(n) for n in by_status.values()], list(by_status)),
        "reason_rows": rows([float(n) for n in reasons.values()], list(reasons)),
    }  # fmt: skip


def _main_currency(figures: OverviewFigures) -> str:
    """The currency most money moved in over the days shown (USD when none did)."""
    moved: dict[str, int] = {}
    for day in figures.days:
        for currency, money in day.revenue.items():
            moved[currency] = moved.get(currency, 0) + abs(money.amount_minor)
    return max(moved, key=lambda currency: moved[currency]) if moved else "USD"
