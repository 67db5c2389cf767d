"""The dashboard overview's figures per UTC day: orders placed, cancelled, money captured and refunded.

Each is one grouped query bounded by a time column (orders.created_at and payments (status, created_at) are
indexed; refunds are counted when they settled, as the API's figures count them), so its cost follows the
rows of the window, not the table.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from orderline.application.ports import DayFigures
from orderline.storage.driver import Connection


def _day_of(connection: Connection, column: str) -> str:
    """The UTC day of a timestamp column, as YYYY-MM-DD text on both engines (SQLite stores UTC text)."""
    if connection.dialect == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"


def _orders_in_window(connection: Connection) -> str:
    """The orders table, read through the index on its creation time. SQLite's planner, grouping by status,
    prefers walking the (status, seq) index — every order — to searching the window; INDEXED BY holds it to
    the window (and fails loudly should the index ever go). PostgreSQL costs the two honestly."""
    if connection.dialect == "postgresql":
        return "orders"
    return "orders INDEXED BY ix_orders_tenant_id_created_at_seq"


class SqlShopFigures:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def per_day(self, since: datetime) -> list[DayFigures]:
        days: dict[date, DayFigures] = {}
        orders = f"""SELECT {_day_of(self._db, "created_at")} AS day, COUNT(*) AS orders,
                            COALESCE(SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END), 0) AS cancelled
                     FROM {_orders_in_window(self._db)} WHERE tenant_id = :tenant AND created_at >= :since GROUP BY 1"""  # noqa: S608 - a column expression of ours
        for row in await self._db.fetch_all(orders, {"since": since, "tenant": self._tenant}):
            day = date.fromisoformat(row["day"])
            days[day] = DayFigures(day, int(row["orders"]), int(row["cancelled"]))
        for day, currency, minor in await self._net(since):
            figures = days.setdefault(day, DayFigures(day))
            figures.net_minor[currency] = figures.net_minor.get(currency, 0) + minor
        return [days[day] for day in sorted(days)]

    async def _net(self, since: datetime) -> list[tuple[date, str, int]]:
        # As Dashboard's windows count money: a capture when its payment started, a refund when it settled.
        captured = f"""SELECT {_day_of(self._db, "created_at")} AS day, currency, SUM(amount_minor) AS minor
                       FROM payments WHERE tenant_id = :tenant AND status = 'SUCCEEDED' AND created_at >= :since
                       GROUP BY 1, 2"""  # noqa: S608
        refunded = f"""SELECT {_day_of(self._db, "settled_at")} AS day, currency, SUM(amount_minor) AS minor
                       FROM refunds WHERE tenant_id = :tenant AND status = 'SUCCEEDED' AND settled_at >= :since
                       GROUP BY 1, 2"""  # noqa: S608
        moved = []
        for sql, sign in ((captured, 1), (refunded, -1)):
            for row in await self._db.fetch_all(sql, {"since": since, "tenant": self._tenant}):
                moved.append((date.fromisoformat(row["day"]), row["currency"], sign * int(row["minor"])))
        return moved

    async def refunds_by_status(self) -> dict[str, int]:
        sql = """SELECT status, COUNT(*) AS n FROM refunds
                 WHERE tenant_id = :tenant AND status IN ('PENDING', 'FAILED') GROUP BY status"""
        return {str(row["status"]): int(row["n"]) for row in await self._db.fetch_all(sql, {"tenant": self._tenant})}

    async def by_status(self, since: datetime) -> dict[tuple[str, str | None], int]:
        # One statement for the statuses and the cancel reasons, with no condition on status: given one, a
        # planner may walk the (status, seq) index over every cancelled order instead of the window's rows.
        sql = f"""SELECT status, cancel_reason, COUNT(*) AS n FROM {_orders_in_window(self._db)}
                  WHERE tenant_id = :tenant AND created_at >= :since GROUP BY status, cancel_reason"""  # noqa: S608
        rows = await self._db.fetch_all(sql, {"since": since, "tenant": self._tenant})
        return {(str(row["status"]), row["cancel_reason"]): int(row["n"]) for row in rows}
