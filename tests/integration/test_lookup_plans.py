"""One order is read by its primary key, whoever asks and whatever the planner knows of the table.

A customer's read of one order (``GET /v1/orders/{id}``, the dialects' details) once put its owner's condition
beside the key, and PostgreSQL, with no statistics yet for a table that had just taken thousands of orders,
took the customer's index instead of the key and walked every order of a customer with many: 5.5 ms against
0.2 at 9k orders, and a customer's reads at a fifth of an admin's under load. The statement is planned here the
generic way (the plan a prepared statement keeps), before and after ANALYZE, beside a customer of 3,000 orders.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from uuid import UUID

import pytest

from orderline.application.principal import PUBLIC
from orderline.application.queries import Owner
from orderline.storage.order_views import one_order
from orderline.storage.postgres import to_numbered
from tests.support import Db

CUSTOMER, KEY = UUID(int=1), UUID(int=2)
ORDERS = 3000

_INSERT = """
INSERT INTO orders (id, seq, tenant_id, customer_id, placed_by_key, currency, subtotal_minor, discount_minor,
                    total_minor, status, version, created_at, updated_at)
VALUES (:id, :seq, :tenant, :customer_id, :placed_by_key, 'USD', 100, 0, 100, 'PLACED', 1,
        '2026-03-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00')
"""


async def _seed(db: Db) -> UUID:
    """ORDERS orders, all of one customer's but one placed by a key; the id of one of the customer's."""
    async with db.transaction() as uow:
        ids = [uuid.uuid4() for _ in range(ORDERS)]
        for seq, order_id in enumerate(ids, start=1):
            by_key = seq == ORDERS
            row = {"id": order_id, "seq": seq, "tenant": PUBLIC, "customer_id": None if by_key else CUSTOMER,
                   "placed_by_key": KEY if by_key else None}  # fmt: skip
            await uow.connection.execute(_INSERT, row)
        await uow.commit()
    return ids[ORDERS // 2]


async def _analyse(db: Db) -> None:
    async with db.transaction() as uow:
        await uow.connection.execute("ANALYZE")
        await uow.commit()


async def _generic_plan(db: Db, sql: str, params: dict[str, Any]) -> tuple[str, str]:
    """The engine's name, and its plan for ``sql`` without the parameters' values."""
    async with db.transaction() as uow:
        connection = uow.connection
        if connection.dialect == "sqlite":
            rows = await connection.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
            return "sqlite", "\n".join(str(row["detail"]) for row in rows)
        numbered, names = to_numbered(sql)
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.execute(f"PREPARE one_order AS {numbered}")
        arguments = ", ".join("'" + str(params[name]) + "'" for name in names)
        rows = await connection.fetch_all(f"EXPLAIN EXECUTE one_order({arguments})")
        await connection.execute("DEALLOCATE one_order")
        return "postgres", "\n".join(str(row["QUERY PLAN"]) for row in rows)


def _orders_access(plan: str) -> list[str]:
    """How the plan reaches rows of orders: the index names (PostgreSQL) or SQLite's SEARCH/SCAN lines."""
    postgres = re.findall(r"(?:Index (?:Only )?Scan(?: Backward)?|Bitmap Index Scan) (?:using|on) (\w+)", plan)
    sqlite = re.findall(r"^.*(?:SEARCH|SCAN) orders\b.*$", plan, flags=re.MULTILINE)
    return [name for name in postgres if "orders" in name and "order_lines" not in name] or sqlite


@pytest.mark.parametrize("analysed", [False, True], ids=["never analysed", "analysed"])
@pytest.mark.parametrize(
    "owner",
    [Owner(), Owner(customer_id=CUSTOMER), Owner(api_key_id=KEY), Owner(order_id=UUID(int=3))],
    ids=["admin", "customer", "api key", "order token"],
)
async def test_one_order_is_found_by_its_primary_key(db: Db, owner: Owner, analysed: bool) -> None:
    order_id = await _seed(db)
    if analysed:
        await _analyse(db)

    engine, plan = await _generic_plan(db, *one_order(PUBLIC, order_id, owner))

    access = _orders_access(plan)
    assert access, plan
    if engine == "sqlite":
        assert all("PRIMARY KEY" in line or "sqlite_autoindex_orders_1" in line for line in access), plan
    else:
        assert access == ["pk_orders"], plan
