"""The repositories reach one row of a tenant by its key, whatever the planner knows of the table (ADR 0045).

Every read, lock and write of one row by id within a tenant (``WHERE id = :id AND tenant_id = :tenant``, with
``FOR UPDATE`` or ``AND version = :expected``) is planned here, its SQL taken from the repositories' own
constants: the generic plan (what a prepared statement keeps) and the custom one on PostgreSQL, EXPLAIN QUERY
PLAN on SQLite. The table holds ROWS rows of the tenant asked, in three states of its statistics: never
analysed, analysed, and analysed while each of its tenants had one row (so ``tenant_id`` looked unique, as
after a table's first rows, and one tenant took ROWS rows since). Each access to the table must find the row by
its key: the primary key, or an index whose columns before ``id`` are all bound by equality (pets'
``(tenant_id, id)``), never an index that walks the tenant's rows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Uuid

from orderline.application.principal import PUBLIC
from orderline.storage import api_keys, audit, orders, payments, pets, users, vouchers, webhooks
from orderline.storage.driver import Connection
from orderline.storage.postgres import lock_sql, to_numbered
from orderline.storage.schema import metadata
from orderline.storage.writes import PLACEHOLDER
from tests.support import Db

TENANT = UUID(int=0xA5)
OTHER = UUID(int=0xB6)  # a tenant that asks for TENANT's row
ROWS = 3000
OTHERS = 100  # other tenants, a row each, beside the tenant's rows (ROWS of them in the last state)

NEVER, ANALYSED, LOOKED_UNIQUE = "never analysed", "analysed", "analysed when each tenant had one row"


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str | Callable[[UUID, UUID], str]  # a function of the row's id and tenant for one that writes them in
    postgres_only: bool = False


_LOCK = {"postgresql": " FOR UPDATE", "sqlite": ""}  # what each connection's for_update() gives

# By table: what the repositories run to read, lock or write one row of it by its key within the tenant.
STATEMENTS: dict[str, list[Statement]] = {
    "orders": [
        Statement("get", orders._with_lines_sql(orders._BY_ID, "")),
        Statement("get for update: lock", lambda row, tenant: lock_sql("orders", row, tenant), postgres_only=True),
        Statement(
            "get for update: locked read",
            orders._with_lines_sql(orders._WITH_MONEY_FACTS, ", o.payments, o.refunds"),
            postgres_only=True,
        ),
        Statement("save", orders._UPDATE),
        Statement("link_billing_address", orders._LINK_ADDRESS),
        Statement("remove", orders._DELETE),
    ],
    "pets": [
        Statement("get", pets._BY_ID),
        Statement("get for update", pets._LOCKED),
        Statement("save", pets._UPDATE),
        Statement("shift_stock", pets._SHIFT.format(live=" AND removed_at IS NULL")),
        Statement("shift_stock of a removed pet", pets._SHIFT.format(live="")),
        Statement("shift_stocks", pets._SHIFT_MANY.format(live=" AND removed_at IS NULL"), postgres_only=True),
        Statement("shift_stocks, removed too", pets._SHIFT_MANY.format(live=""), postgres_only=True),
        Statement("remove", pets._REMOVE),
        Statement("get_many of one", pets._many_sql(1, include_removed=False)),
        Statement("get_many of three for update", pets._many_sql(3, include_removed=False)),
        Statement("get_many of three, removed too", pets._many_sql(3, include_removed=True)),
    ],
    "users": [
        Statement("get", users._BY_ID),
        Statement("standing (every signed-in request)", users.STANDING),
        Statement("get for update", users._LOCKED),
        Statement("save", users._UPDATE),
    ],
    "vouchers": [
        Statement("get", vouchers._BY_ID),
        Statement("get for update", vouchers._LOCKED),
        Statement("save", vouchers._SAVE),
    ],
    "payments": [
        Statement("get", payments._PAYMENT_BY_ID),
        Statement("get for update", payments._PAYMENT_LOCKED),
        Statement("save", payments._SAVE_PAYMENT),
    ],
    "refunds": [
        Statement("get_refund", payments._REFUND_BY_ID),
        Statement("get_refund for update", payments._REFUND_LOCKED),
        Statement("save_refund", payments._SAVE_REFUND),
    ],
    "webhook_subscriptions": [
        Statement("get", webhooks._BY_ID),
        Statement("get for update", webhooks._LOCKED),
        Statement("save", webhooks._SAVE),
        Statement("remove", webhooks._REMOVE),
    ],
    "webhook_deliveries": [
        Statement("get_delivery", webhooks._DELIVERY),
        Statement("requeue", webhooks._REQUEUE),
    ],
    "audit_log": [Statement("get", audit._BY_ID)],
    "api_keys": [Statement("revoke", api_keys._REVOKE)],
}
_LOCKED_NAMES = {
    "get for update",
    "get_refund for update",
    "get_many of three for update",
}  # run with the connection's for_update() after them


@pytest.mark.parametrize("state", [NEVER, ANALYSED, LOOKED_UNIQUE])
@pytest.mark.parametrize("table", list(STATEMENTS))
async def test_one_row_is_found_by_its_key(db: Db, table: str, state: str) -> None:
    async with db.transaction() as uow:  # never committed: the rows, the copies and the statistics go with it
        connection = uow.connection
        engine = connection.dialect
        await _table_of_its_own(connection, table)
        if state == LOOKED_UNIQUE:
            await _seed(connection, table, start=1_000_000, count=ROWS, tenant=None)
            await _analyse(connection, table)
            await _seed(connection, table, start=1, count=ROWS, tenant=TENANT)
        else:
            await _seed(connection, table, start=1_000_000, count=OTHERS, tenant=None)
            await _seed(connection, table, start=1, count=ROWS, tenant=TENANT)
            if state == ANALYSED:
                await _analyse(connection, table)
        row = await _one_row(connection, table, TENANT, offset=ROWS // 2)

        walks = []
        for statement, sql in _statements(table, engine, row["id"], TENANT):
            if engine == "postgresql":
                for mode in ("generic", "custom"):
                    plan = await _postgres_plan(connection, sql, row, mode)
                    walks += [
                        f"{statement.name} ({mode}): {scan}" for scan in await _postgres_walks(connection, table, plan)
                    ]
            else:
                plan_lines = await _sqlite_plan(connection, sql, row)
                walks += [f"{statement.name}: {line}" for line in _sqlite_walks(table, plan_lines)]

    assert not walks, "\n".join(walks)


@pytest.mark.parametrize("table", list(STATEMENTS))
async def test_another_tenants_row_is_neither_found_nor_touched(db: Db, table: str) -> None:
    """The same statements, asked by another tenant for TENANT's row: nothing read, changed or locked."""
    async with db.transaction() as uow:
        connection = uow.connection
        engine = connection.dialect
        await _table_of_its_own(connection, table)
        await _seed(connection, table, start=1, count=3, tenant=TENANT)
        row = await _one_row(connection, table, TENANT, offset=1)
        before = await _stored(connection, table, row["id"])

        for statement, sql in _statements(table, engine, row["id"], OTHER):
            assert await _run(connection, sql, row, OTHER) == 0, statement.name
        assert await _stored(connection, table, row["id"]) == before
        if engine == "postgresql":
            assert await _locker(connection, table, row["id"]) == "0"  # no lock, nor any other change, was taken

        # And TENANT's own reads (and lock) find it: the statements above were not refusing everyone.
        reads = [(s, sql) for s, sql in _statements(table, engine, row["id"], TENANT) if _is_read(sql)]
        for statement, sql in reads:
            assert await _run(connection, sql, row, TENANT) == 1, statement.name
        if engine == "postgresql" and any("FOR UPDATE" in sql for _, sql in reads):
            assert await _locker(connection, table, row["id"]) != "0"  # so the probe above would have seen a lock


def _is_read(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT")


async def _stored(connection: Connection, table: str, row_id: UUID) -> list[Any]:
    """Every column of the row, as stored."""
    columns = [column.name for column in metadata.tables[table].columns]
    found = await connection.fetch_one(f"SELECT {', '.join(columns)} FROM {table} WHERE id = :id", {"id": row_id})
    assert found is not None
    return [found[name] for name in columns]


async def _locker(connection: Connection, table: str, row_id: UUID) -> str:
    """The row's xmax: 0 until a transaction locks, updates or deletes it."""
    found = await connection.fetch_one(f"SELECT xmax::text AS xmax FROM {table} WHERE id = :id", {"id": row_id})
    assert found is not None
    return str(found["xmax"])


async def _run(connection: Connection, sql: str, row: dict[str, Any], tenant: UUID) -> int:
    """Run ``sql`` as ``tenant`` asks it of ``row``: the rows it read or changed."""
    if connection.dialect == "postgresql":
        arguments = await _prepared(connection, sql, row, tenant)
        try:
            return await connection.execute(f"EXECUTE by_key{arguments}")
        finally:
            await connection.execute("DEALLOCATE by_key")
    params = {name: tenant if name == "tenant" else _param(name, row) for name in PLACEHOLDER.findall(sql)}
    if _is_read(sql):
        return len(await connection.fetch_all(sql, params))
    return await connection.execute(sql, params)


async def _table_of_its_own(connection: Connection, table: str) -> None:
    if connection.dialect == "postgresql":
        # A table of its own for this test (the session's tables keep other tests' statistics): a temporary copy,
        # which the repositories' SQL then names, as pg_temp comes first in the search path.
        await connection.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING ALL) ON COMMIT DROP")
    else:
        await connection.execute("PRAGMA defer_foreign_keys = ON")  # rows whose parents are elsewhere, rolled back


def _statements(table: str, engine: str, row_id: UUID, tenant: UUID) -> list[tuple[Statement, str]]:
    """The statements of ``table`` an engine runs, as their SQL for ``row_id`` asked by ``tenant``."""
    found = []
    for statement in STATEMENTS[table]:
        if statement.postgres_only and engine != "postgresql":
            continue
        sql = statement.sql(row_id, tenant) if callable(statement.sql) else statement.sql
        if statement.name in _LOCKED_NAMES:
            sql += _LOCK[engine]
        found.append((statement, sql))
    return found


def _value_sql(engine: str, table: str, column: Any, n: str, tenant: UUID | None) -> str:
    """An SQL expression for ``column`` in the ``n``-th seeded row: unique where a constraint asks, valid for the
    table's checks; the tenant asked, or a tenant of the row's own."""
    postgres = engine == "postgresql"
    if column.name == "tenant_id":
        if tenant is not None:
            return f"'{tenant}'::uuid" if postgres else f"'{tenant.hex}'"
        return f"lpad(to_hex({n}), 32, '0')::uuid" if postgres else f"printf('%032x', {n})"
    if column.name in {"stock_reserved", "stock_sold", "uses"}:
        return "0"
    if column.nullable and column.name != "id":
        return "NULL"
    kind = column.type
    if isinstance(kind, Uuid):
        return "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    if isinstance(kind, Boolean):
        return "false" if postgres else "0"
    if isinstance(kind, Integer):
        return n
    if isinstance(kind, DateTime):
        return "now()" if postgres else "'2026-03-01 00:00:00.000000'"
    if isinstance(kind, Date):
        return "current_date" if postgres else "'2026-03-01'"
    if isinstance(kind, JSON):
        return "'[]'::jsonb" if postgres else "'[]'"
    if isinstance(kind, String):
        return f"substr('v' || {n}, 1, {kind.length or 40})"
    raise AssertionError(f"no seed value for {table}.{column.name} ({kind})")


async def _seed(connection: Connection, table: str, *, start: int, count: int, tenant: UUID | None) -> None:
    """``count`` rows numbered from ``start``: all of ``tenant``'s, or (None) each of a tenant of its own."""
    engine = connection.dialect
    columns = [column for column in metadata.tables[table].columns if column.computed is None]
    values = ", ".join(_value_sql(engine, table, column, "series.n", tenant) for column in columns)
    end = start + count - 1
    if engine == "postgresql":
        series = f"generate_series({start}, {end}) AS series(n)"
    else:
        counted = (
            f"WITH RECURSIVE s(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM s WHERE n < {end}) SELECT n FROM s"
        )
        series = f"({counted}) series"
    names = ", ".join(column.name for column in columns)
    await connection.execute(f"INSERT INTO {table} ({names}) SELECT {values} FROM {series}")


async def _analyse(connection: Connection, table: str) -> None:
    await connection.execute(f"ANALYZE {table}")


async def _one_row(connection: Connection, table: str, tenant: UUID, *, offset: int) -> dict[str, Any]:
    """The key (and the other uuid columns) of one of ``tenant``'s rows."""
    columns = [column.name for column in metadata.tables[table].columns if isinstance(column.type, Uuid)]
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE tenant_id = :tenant ORDER BY id LIMIT 1 OFFSET {offset}"
    row = await connection.fetch_one(sql, {"tenant": tenant})
    assert row is not None
    return {name: None if row[name] is None else UUID(str(row[name])) for name in columns}


def _param(name: str, row: dict[str, Any]) -> Any:
    """The value a statement's ``:name`` is planned with: the row's own where it names a column of it."""
    if name == "tenant":
        return TENANT
    if name == "public":
        return PUBLIC
    if name == "id0":  # get_many's first id: the row's; the others are ids of no row
        return row["id"]
    if name == "ids":  # shift_stocks' ids (PostgreSQL): the row's alone
        return f"{{{row['id']}}}"
    return row.get(name)


_DEFAULTS: dict[str, Callable[[], str]] = {  # a value of each type a statement's other parameters have
    "uuid": lambda: str(uuid.uuid4()),
    "integer": lambda: "1",
    "bigint": lambda: "1",
    "bigint[]": lambda: "{1}",
    "boolean": lambda: "true",
    "text": lambda: "x",
    "character varying": lambda: "x",
    "timestamp with time zone": lambda: "2026-03-01 00:00:00+00",
    "date": lambda: "2026-03-01",
    "jsonb": lambda: "[]",
}


async def _postgres_plan(connection: Connection, sql: str, row: dict[str, Any], mode: str) -> dict[str, Any]:
    """The plan PostgreSQL makes for ``sql`` prepared, generic (without the parameters' values) or custom."""
    await connection.execute(f"SET LOCAL plan_cache_mode = force_{mode}_plan")
    arguments = await _prepared(connection, sql, row, TENANT)
    rows = await connection.fetch_all(f"EXPLAIN (FORMAT JSON) EXECUTE by_key{arguments}")
    await connection.execute("DEALLOCATE by_key")
    plan: dict[str, Any] = json.loads(rows[0]["QUERY PLAN"])[0]["Plan"]
    return plan


async def _prepared(connection: Connection, sql: str, row: dict[str, Any], tenant: UUID) -> str:
    """PREPARE ``sql`` as by_key; the arguments that EXECUTE it for ``row``, asked by ``tenant``."""
    numbered, names = to_numbered(sql)
    await connection.execute(f"PREPARE by_key AS {numbered}")
    found = await connection.fetch_one(
        "SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'by_key'"
    )
    assert found is not None
    values = []
    for name, kind in zip(names, found["types"], strict=True):
        value = tenant if name == "tenant" else _param(name, row)
        values.append(str(value) if value is not None else _DEFAULTS[kind]())
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")" if values else ""


async def _postgres_walks(connection: Connection, table: str, plan: dict[str, Any]) -> list[str]:
    """Each access to ``table`` in ``plan`` that does not find a row by its key."""
    indexes = await connection.fetch_all(
        f"""SELECT c.relname AS name, array_agg(a.attname::text ORDER BY k.n) AS columns
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = '{table}'::regclass GROUP BY c.relname"""
    )
    columns = {row["name"]: list(row["columns"]) for row in indexes}
    walks: list[str] = []

    def by_key(index: str, condition: str) -> bool:
        names = columns[index]
        if "id" not in names:
            return False
        return all(re.search(rf"\((?:\w+\.)?{name} = ", condition) for name in names[: names.index("id") + 1])

    def visit(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if node.get("Relation Name") == table and kind != "ModifyTable":
            if kind in {"Index Scan", "Index Only Scan"}:
                if not by_key(node["Index Name"], node.get("Index Cond", "")):
                    walks.append(f"{kind} using {node['Index Name']} ({node.get('Index Cond')})")
            elif kind == "Bitmap Heap Scan":
                for child in node.get("Plans", []):
                    if child["Node Type"] == "Bitmap Index Scan" and not by_key(
                        child["Index Name"], child["Index Cond"]
                    ):
                        walks.append(f"Bitmap Index Scan on {child['Index Name']} ({child['Index Cond']})")
            else:
                walks.append(kind)
        for child in node.get("Plans", []):
            visit(child)

    visit(plan)
    return walks


async def _sqlite_plan(connection: Connection, sql: str, row: dict[str, Any]) -> list[str]:
    params = {name: _param(name, row) for name in PLACEHOLDER.findall(sql)}
    rows = await connection.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
    return [str(row["detail"]) for row in rows]


def _sqlite_walks(table: str, lines: list[str]) -> list[str]:
    """Each line that reaches ``table`` other than by its key (``id=?`` among the index's conditions)."""
    accesses = [line for line in lines if re.match(rf"(SEARCH|SCAN) {table}\b", line)]
    assert accesses, lines
    return [line for line in accesses if not re.search(r"[( ]id=\?", line)]
