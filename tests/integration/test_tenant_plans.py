"""A small tenant's lists walk only indexes that lead with the tenant, in the plan a prepared statement keeps.

PostgreSQL plans a prepared statement for its parameters' values at first, then may keep one *generic* plan for
every value after five runs; asyncpg prepares every statement. A generic plan cannot know that a tenant is
small, so while an orders index not led by the tenant existed (the global unique seq index), a small tenant's
list by creation time walked every tenant's orders newest first: 331 ms beside a tenant of 1M orders, 0.2 ms
once the index was gone (ADR 0040). SQLite plans without the values of bound parameters, so its plan is the
generic one already. Each list the API can run is planned here the generic way, beside a larger tenant, with
sequential scans priced out so that the planner must choose among the indexes.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from orderline.application.queries import OrderQuery, Owner
from orderline.domain.status import OrderStatus
from orderline.storage.order_views import list_page
from orderline.storage.postgres import to_numbered
from orderline.storage.schema import orders
from tests.support import Db

SMALL, LARGE = UUID("0190f5c2-7d3e-7a1b-8c2d-000000000100"), UUID("0190f5c2-7d3e-7a1b-8c2d-000000000200")
CUSTOMER, KEY = UUID(int=1), UUID(int=2)
START = datetime(2026, 3, 1, tzinfo=UTC)
STATUSES = [OrderStatus.PLACED, OrderStatus.APPROVED, OrderStatus.SHIPPED, OrderStatus.CANCELLED]

_INSERT = """
INSERT INTO orders (id, seq, tenant_id, customer_id, placed_by_key, currency, subtotal_minor, discount_minor,
                    total_minor, status, version, created_at, updated_at)
VALUES (:id, :seq, :tenant, :customer_id, :placed_by_key, 'USD', 100, 0, 100, :status, 1, :created_at,
        :created_at)
"""


@pytest.fixture
async def beside_a_large_tenant(db: Db) -> Db:
    await seed(db, large=5000, small=100)
    return db


@pytest.fixture
async def postgres_beside_a_large_tenant(postgres_db: Db) -> Db:
    await seed(postgres_db, large=5000, small=100)
    return postgres_db


async def seed(db: Db, large: int, small: int) -> None:
    """``large`` orders of a large tenant, then ``small`` of a small one, over ten days; statistics gathered."""
    seq = itertools.count(1)
    async with db.transaction() as uow:
        for tenant, size in ((LARGE, large), (SMALL, small)):
            for n in range(size):
                row = {
                    "id": uuid.uuid4(),
                    "seq": next(seq),
                    "tenant": tenant,
                    "customer_id": CUSTOMER if n % 2 else None,
                    "placed_by_key": None if n % 2 else KEY,
                    "status": STATUSES[n % len(STATUSES)].value,
                    "created_at": START + timedelta(minutes=n * 14400 // size),
                }
                await uow.connection.execute(_INSERT, row)
        await uow.commit()
    async with db.transaction() as uow:
        await uow.connection.execute("ANALYZE")
        await uow.commit()


def _queries() -> list[OrderQuery]:
    """Every list the API builds: each owner, with and without a status, a creation window's ends, a cursor."""
    owners = [Owner(), Owner(customer_id=CUSTOMER), Owner(api_key_id=KEY)]
    middle = START + timedelta(days=5)
    windows = [(None, None), (middle, None), (None, middle), (START + timedelta(days=2), middle)]
    return [
        OrderQuery(owner=owner, status=status, created_after=after, created_before=before, before_seq=cursor, limit=20)
        for owner in owners
        for status in (None, OrderStatus.SHIPPED)
        for after, before in windows
        for cursor in (None, 5050)
    ]


async def _generic_plan(db: Db, sql: str, params: dict[str, Any]) -> str:
    async with db.transaction(SMALL) as uow:
        connection = uow.connection
        if connection.dialect == "sqlite":
            rows = await connection.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row["detail"]) for row in rows)
        numbered, names = to_numbered(sql)
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.execute("SET LOCAL enable_seqscan = off")
        await connection.execute(f"PREPARE small_tenants_list AS {numbered}")
        arguments = ", ".join(_literal(params[name]) for name in names)
        rows = await connection.fetch_all(f"EXPLAIN EXECUTE small_tenants_list({arguments})")
        await connection.execute("DEALLOCATE small_tenants_list")
        return "\n".join(str(row["QUERY PLAN"]) for row in rows)


def _literal(value: object) -> str:
    """A parameter as an SQL literal for EXECUTE (the values play no part in a generic plan)."""
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _leading_columns(db: Db) -> dict[str, str]:
    """Each index of orders by name, with the column it leads with."""
    async with db.transaction() as uow:
        connection = uow.connection
        if connection.dialect == "sqlite":
            names = [str(row["name"]) for row in await connection.fetch_all("PRAGMA index_list(orders)")]
            return {
                name: str((await connection.fetch_all(f"PRAGMA index_info('{name}')"))[0]["name"]) for name in names
            }
        rows = await connection.fetch_all(
            "SELECT i.relname AS name, a.attname AS leading FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] WHERE t.relname = 'orders'"
        )
        return {str(row["name"]): str(row["leading"]) for row in rows}


async def test_every_list_of_a_small_tenant_walks_an_index_led_by_the_tenant(beside_a_large_tenant: Db) -> None:
    db = beside_a_large_tenant
    leading = await _leading_columns(db)
    for query in _queries():
        plan = await _generic_plan(db, *list_page(SMALL, query, db.dialect))

        used = re.findall(r"(?:[Ii]ndex (?:Only )?Scan(?: Backward)? using|USING (?:COVERING )?INDEX) (\w+)", plan)
        outer = [name for name in used if name in leading]
        assert outer, f"{query}\n{plan}"  # the list reads orders through an index, not by a scan of the table
        assert all(leading[name] == "tenant_id" for name in outer), f"{query}\n{plan}"


async def test_no_index_of_orders_but_its_primary_key_leads_with_anything_but_the_tenant(db: Db) -> None:
    leading = await _leading_columns(db)
    async with db.snapshot() as uow:
        dialect = uow.connection.dialect

    strays = {name: column for name, column in leading.items() if column != "tenant_id"}

    # The foreign-key columns' indexes (migration 0022): deleting a voucher or a billing address makes each engine
    # search orders by that column alone, per row deleted, which no tenant-led index can serve. Each is of its one
    # column and partial (WHERE it IS NOT NULL), so only a statement naming the column can walk it; no list does
    # (the test above), and orders' foreign keys are exactly these two.
    references = {next(iter(key.columns)).name for key in orders.foreign_key_constraints}
    checks = {name: column for name, column in strays.items() if column in references}
    assert set(checks.values()) == references == {"voucher_id", "billing_address_id"}, strays
    async with db.snapshot() as uow:
        for name, column in checks.items():
            if dialect == "sqlite":
                row = await uow.connection.fetch_one("SELECT sql FROM sqlite_master WHERE name = :name", {"name": name})
            else:
                row = await uow.connection.fetch_one(
                    "SELECT pg_get_indexdef(to_regclass(:name)) AS sql", {"name": name}
                )
            assert row is not None
            definition = re.search(r"\((\w+)\)\s+WHERE\s+\(?(\w+) IS NOT NULL\)?$", str(row["sql"]))
            assert definition is not None, row["sql"]
            assert definition.groups() == (column, column), row["sql"]

    # The primary key: an order is read by its id alone. SQLite's next seq is MAX(seq) + 1, which needs an index
    # led by seq; its plans do not know parameters' values at all, and the test above shows they never walk it.
    others = {name: column for name, column in strays.items() if name not in checks}
    assert set(others.values()) == ({"id", "seq"} if dialect == "sqlite" else {"id"}), strays


async def test_every_list_is_read_in_seq_order_from_an_index_never_sorted(beside_a_large_tenant: Db) -> None:
    """A creation window is a seq range (ADR 0036): the page walks a seq-ordered index from the window's newest
    end and stops after a page. PostgreSQL's generic plan once read the whole window through (created_at, seq)
    instead and sorted it: a 1 % window of 1M orders read 10,000 rows for a page of 21 (8.7 ms against 0.7 at 10k)."""
    db = beside_a_large_tenant
    for query in _queries():
        plan = await _generic_plan(db, *list_page(SMALL, query, db.dialect))

        assert "TEMP B-TREE" not in plan, f"{query}\n{plan}"  # SQLite's sort
        assert not re.search(r"\bSort\b", plan), f"{query}\n{plan}"  # PostgreSQL's


async def test_a_windows_bounds_are_found_once_per_list_and_never_while_it_is_planned(
    postgres_beside_a_large_tenant: Db,
) -> None:
    """PostgreSQL finds a creation window's two seq bounds with the functions of migration 0023. Called directly
    from the list's statement, a function with constant arguments is also run by the planner, to estimate it, each
    time a plan is made for the request's values; and beside many orders PostgreSQL kept making such plans (1.5 to
    3.2 ms of planning a list at 1M orders, ADR 0036). Called in a scalar subquery it is run once per list, at
    execution. Counted by PostgreSQL for this transaction, over the first runs of a prepared statement (each planned
    for its values) and the later ones."""
    db = postgres_beside_a_large_tenant
    runs = 8
    query = OrderQuery(created_after=START + timedelta(days=2), created_before=START + timedelta(days=5), limit=20)
    sql, params = list_page(SMALL, query, db.dialect)
    numbered, names = to_numbered(sql)
    async with db.transaction(SMALL) as uow:
        connection = uow.connection
        await connection.execute("SET LOCAL track_functions = 'pl'")
        await connection.execute(f"PREPARE window_list AS {numbered}")
        arguments = ", ".join(_literal(params[name]) for name in names)
        for _ in range(runs):
            await connection.fetch_all(f"EXECUTE window_list({arguments})")
        await connection.execute("DEALLOCATE window_list")
        calls = await connection.fetch_one(
            "SELECT pg_stat_get_xact_function_calls('orders_highest_seq_before'::regproc) AS before,"
            " pg_stat_get_xact_function_calls('orders_lowest_seq_from'::regproc) AS from_"
        )

    assert calls is not None
    assert (calls["before"], calls["from_"]) == (runs, runs)
