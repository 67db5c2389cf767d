"""The dashboard overview's figures on both engines: orders and money by UTC day, reasons, refunds."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from orderline.application.orders import CancelOrder
from orderline.application.overview import DAYS
from orderline.application.use_cases import UseCases
from orderline.domain.money import Money
from orderline.domain.order import CancelReason
from orderline.storage.driver import Params
from orderline.storage.postgres import PostgresConnection
from orderline.storage.sqlite import SqliteConnection
from tests.support import ADMIN, Db, SteppingClock, a_pet, an_order, approve


async def test_each_of_the_last_30_days_counts_its_orders_cancellations_and_money(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    pet = await a_pet(use_cases, stock=5, fee="10.00")
    await an_order(use_cases, pet)
    clock.advance(timedelta(days=2))
    kept = await approve(use_cases, await an_order(use_cases, pet))
    dropped = await approve(use_cases, await an_order(use_cases, pet))
    await use_cases.orders.cancel(ADMIN, CancelOrder(dropped.id, CancelReason.FRAUD))

    figures = await use_cases.overview.figures(ADMIN)

    assert len(figures.days) == DAYS
    today, two_days_ago = figures.days[-1], figures.days[-3]
    assert today.day == kept.created_at.date()
    assert (today.orders, today.cancelled) == (2, 1)
    assert today.revenue == {"USD": Money.parse("10.00", "USD")}  # two captured, one refunded, the same day
    assert (two_days_ago.day, two_days_ago.orders, two_days_ago.cancelled) == (today.day - timedelta(days=2), 1, 0)
    assert figures.orders == 3
    assert figures.cancel_reasons == {"FRAUD": 1}


async def test_days_without_orders_are_there_with_nothing_in_them(use_cases: UseCases) -> None:
    figures = await use_cases.overview.figures(ADMIN)

    assert [day.orders for day in figures.days] == [0] * DAYS
    assert figures.days[0].day == figures.days[-1].day - timedelta(days=DAYS - 1)
    assert isinstance(figures.days[0].day, date)
    assert figures.cancellation_rate == 0.0
    assert figures.refunds == {}


async def test_no_overview_statement_reads_the_orders_table_outside_the_window_of_an_index(
    use_cases: UseCases, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await an_order(use_cases, await a_pet(use_cases, stock=2))
    ran = _record_statements(monkeypatch)

    await use_cases.overview.figures(ADMIN)

    over_orders = [(sql, params) for sql, params in ran if re.search(r"\bFROM orders\b", sql)]
    assert len(over_orders) == 2  # per day; by status and cancel reason
    for sql, params in over_orders:
        plan = await _plan(db, sql, params)
        assert "created_at" in plan, plan
        assert not re.search(r"SCAN orders\b|Seq Scan on orders", plan), plan


def _record_statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Params | None]]:
    ran: list[tuple[str, Params | None]] = []
    for connection in (SqliteConnection, PostgresConnection):
        for name in ("fetch_all", "fetch_one"):
            monkeypatch.setattr(connection, name, _recording(getattr(connection, name), ran))
    return ran


def _recording(method: Any, ran: list[tuple[str, Params | None]]) -> Any:
    async def recorded(self: Any, sql: str, params: Params | None = None) -> Any:
        ran.append((sql, params))
        return await method(self, sql, params)

    return recorded


async def _plan(db: Db, sql: str, params: Params | None) -> str:
    """The engine's plan for ``sql``; on PostgreSQL with sequential scans priced out, so that a plan which
    still scans the table has no index to bound it (a tiny table would be scanned whatever its indexes)."""
    async with db.snapshot() as uow:
        if uow.connection.dialect == "sqlite":
            rows = await uow.connection.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row["detail"]) for row in rows)
        await uow.connection.execute("SET LOCAL enable_seqscan = off")
        rows = await uow.connection.fetch_all(f"EXPLAIN {sql}", params)
        return "\n".join(str(row["QUERY PLAN"]) for row in rows)
