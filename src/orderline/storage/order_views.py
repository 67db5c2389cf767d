"""The orders' read model in SQL: one statement per read, rows decoded straight into OrderView (ADR 0033).

No domain Order is built and no Money re-validated: what was checked when the order was written is shown as
it was stored. Each id is parsed once, amounts are formatted from their minor units once, and which orders a
list or a search means is storage/order_filters.py's ``listed`` or ``searched``, as for the domain's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

from orderline.application.ports import AddressView, OrderLineView, OrderView
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.domain.money import decimal_string
from orderline.domain.order import NUMBER_OFFSET
from orderline.storage.driver import Connection, Row
from orderline.storage.order_filters import listed, owner_columns, searched
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.rows import as_datetime, as_opt_datetime, as_opt_uuid, as_uuid
from orderline.storage.sqlite import SqliteDatabase

_ORDER_COLUMNS = (
    "id, seq, customer_id, currency, subtotal_minor, discount_minor, total_minor, note, status, cancel_reason,"
    " cancel_note, version, created_at, updated_at, cancelled_at, cancel_requested_at, paid_at, payment_status,"
    " captured_minor, refunded_minor, voucher_code, billing_address_id"
)
# A row per line, the order's columns repeated: one round trip, and outside a transaction its own snapshot.
# The currency is the order's column (a line is priced in it), so no join to orders for it.
_WITH_LINES = """
SELECT o.*,
       l.line_no AS l_line_no, l.pet_id AS l_pet_id, l.name AS l_name, l.unit_price_minor AS l_unit_price_minor,
       l.quantity AS l_quantity,
       a.line1 AS a_line1, a.line2 AS a_line2, a.city AS a_city, a.state AS a_state,
       a.postal_code AS a_postal_code, a.country AS a_country
FROM ({orders}) o
LEFT JOIN order_lines l ON l.order_id = o.id
LEFT JOIN billing_addresses a ON a.id = o.billing_address_id
ORDER BY o.seq DESC, l.line_no
"""

Unit = Callable[[], AbstractAsyncContextManager[Any]]


class SqlOrderViews:
    """OrderViews over either engine: PostgreSQL reads in autocommit (a statement is its own snapshot), SQLite
    in a snapshot on the event loop (no thread hop)."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        # PostgreSQL's autocommit lookup where there is one (ADR 0032); chosen once, not per read.
        self._unit: Unit = db.lookup if isinstance(db, PostgresDatabase) else db.snapshot

    async def one(self, order_id: UUID, owner: Owner) -> OrderView | None:
        # The owner's columns are those of the lists (owner_columns), so a read and a list agree on whose
        # orders are whose; ``:view_id`` cannot clash with their parameter names.
        conditions = ["id = :view_id", *(f"{column} = :{column}" for column in owner_columns(owner))]
        params: dict[str, Any] = {"view_id": order_id, **owner_columns(owner)}
        orders = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {' AND '.join(conditions)}"  # noqa: S608
        found = await self._read(orders, params)
        return found[0] if found else None

    async def page(self, query: OrderQuery) -> list[OrderView]:
        where = listed(query)
        orders = f"SELECT {_ORDER_COLUMNS} FROM orders {where.sql} ORDER BY seq DESC LIMIT :limit"  # noqa: S608
        return await self._read(orders, {**where.params, "limit": query.limit + 1})

    async def search(self, where: OrderSearch, *, offset: int, limit: int) -> list[OrderView]:
        matching = searched(where)
        orders = f"SELECT {_ORDER_COLUMNS} FROM orders {matching.sql} ORDER BY seq DESC LIMIT :limit OFFSET :offset"  # noqa: S608
        return await self._read(orders, {**matching.params, "limit": limit, "offset": offset})

    async def _read(self, orders_sql: str, params: dict[str, Any]) -> list[OrderView]:
        async with self._unit() as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(_WITH_LINES.format(orders=orders_sql), params)
        return _views(rows)


def _views(rows: list[Row]) -> list[OrderView]:
    """The orders of ``rows`` (a row per line, newest order first), each with its lines in order."""
    views: list[OrderView] = []
    current: Any = None
    for row in rows:
        if row["id"] != current:
            current = row["id"]
            views.append(_order(row))
        if row["l_line_no"] is not None:
            views[-1].items.append(_line(row, views[-1].currency))
    return views


def _line(row: Row, currency: str) -> OrderLineView:
    unit_price, quantity = int(row["l_unit_price_minor"]), row["l_quantity"]
    return OrderLineView(
        int(row["l_line_no"]),
        as_uuid(row["l_pet_id"]),
        row["l_name"],
        decimal_string(unit_price, currency),
        quantity,
        decimal_string(unit_price * quantity, currency),
    )


def _address(row: Row) -> AddressView | None:
    if row["billing_address_id"] is None or row["a_line1"] is None:
        return None
    return AddressView(
        row["a_line1"], row["a_line2"], row["a_city"], row["a_state"], row["a_postal_code"], row["a_country"]
    )


def _order(row: Row) -> OrderView:
    currency = row["currency"]
    seq = int(row["seq"])
    return OrderView(
        id=as_uuid(row["id"]),
        seq=seq,
        number=str(NUMBER_OFFSET + seq),
        user_id=as_opt_uuid(row["customer_id"]),
        status=row["status"],
        currency=currency,
        items=[],
        note=row["note"],
        total_amount=decimal_string(int(row["total_minor"]), currency),
        subtotal_amount=decimal_string(int(row["subtotal_minor"]), currency),
        discount_amount=decimal_string(int(row["discount_minor"]), currency),
        voucher_code=row["voucher_code"],
        billing_address=_address(row),
        payment_status=row["payment_status"],
        paid_amount=decimal_string(int(row["captured_minor"]), currency),
        refunded_amount=decimal_string(int(row["refunded_minor"]), currency),
        paid_at=as_opt_datetime(row["paid_at"]),
        cancel_reason=row["cancel_reason"],
        cancel_note=row["cancel_note"],
        cancel_requested_at=as_opt_datetime(row["cancel_requested_at"]),
        cancelled_at=as_opt_datetime(row["cancelled_at"]),
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        version=int(row["version"]),
    )
