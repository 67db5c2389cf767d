"""Tenant-led indexes (ADR 0040, migration 0021): deleting a tenant, and a tenant's own reads, walk that tenant's
part of an index on both engines, never every tenant's rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from orderline.application.principal import PUBLIC
from orderline.storage.sandbox import TENANT_DELETES
from orderline.storage.schema import metadata
from tests.support import Db

TENANT = "0190f5c2-7d3e-7a1b-8c2d-0000000000a7"
# The operator's keys are few, and a key is found by its hash: a tenant's key list may read them all.
SCANNED_ON_PURPOSE = frozenset({"api_keys"})

# Statements a tenant's requests (or its deletion, or its clock) run on the tables migration 0021 indexes.
TENANT_READS = (
    # the dashboard's and the overview's money figures (storage/shop_figures.py, storage/payments.py)
    "SELECT currency, SUM(amount_minor) FROM payments"
    " WHERE tenant_id = :tenant AND status = 'SUCCEEDED' AND created_at >= :since GROUP BY currency",
    "SELECT currency, SUM(amount_minor) FROM refunds"
    " WHERE tenant_id = :tenant AND status = 'SUCCEEDED' AND settled_at >= :since GROUP BY currency",
    "SELECT status, COUNT(*) FROM refunds"
    " WHERE tenant_id = :tenant AND status IN ('PENDING', 'FAILED') GROUP BY status",
    # a sandbox tenant's clock brings its pending deliveries closer (storage/sandbox.py)
    "UPDATE webhook_deliveries SET attempts = attempts WHERE tenant_id = :tenant AND status = 'PENDING'",
)


def _leading_columns(table_name: str) -> set[str]:
    table = metadata.tables[table_name]
    firsts = {next(iter(index.columns)).name for index in table.indexes}
    firsts |= {next(iter(c.columns)).name for c in table.constraints if hasattr(c, "columns") and len(c.columns)}
    return firsts


def test_every_table_that_names_a_tenant_has_an_index_leading_with_it() -> None:
    tenant_tables = [t.name for t in metadata.sorted_tables if "tenant_id" in t.columns]

    unled = [name for name in tenant_tables if "tenant_id" not in _leading_columns(name)]

    assert unled == sorted(SCANNED_ON_PURPOSE)


async def _plan(db: Db, sql: str) -> tuple[str, str]:
    params = {"tenant": TENANT, "since": datetime(2026, 11, 1, tzinfo=UTC)}
    async with db.transaction(PUBLIC) as uow:  # never committed: nothing is deleted
        connection = uow.connection
        if connection.dialect == "postgresql":
            await connection.execute("SET LOCAL enable_seqscan = off")  # empty tables: ask which index could serve
            lines = [row["QUERY PLAN"] for row in await connection.fetch_all(f"EXPLAIN {sql}", params)]
        else:
            lines = [row["detail"] for row in await connection.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)]
    return connection.dialect, "\n".join(lines)


# SQLite's plan of a DELETE (not PostgreSQL's) shows the foreign-key checks it runs for each row deleted; since
# migration 0022 each searches an index on the referencing column (tests/integration/test_foreign_key_indexes.py),
# so none reads a table whole.


def _by_tenant(plan: str) -> bool:
    """Whether the tenant is a condition of an index the plan searches (not a filter applied to what it read)."""
    return re.search(r"Index Cond: \(+tenant_id =", plan) is not None or "(tenant_id=?" in plan


def _scans(plan: str) -> list[str]:
    """The tables a plan reads whole: SQLite's `SCAN t` without an index, PostgreSQL's `Seq Scan on t`."""
    scanned = []
    for line in plan.splitlines():
        words = line.replace("Seq Scan on", "SCAN").split()
        if "SCAN" in words and "INDEX" not in words and "USING" not in words:
            scanned.append(words[words.index("SCAN") + 1])
    return scanned


# Each table's own statement of a tenant's deletion. Order lines and billing addresses go by their orders' ids in a
# subquery, whose plan follows the orders table's statistics (tests/integration/test_tenant_plans.py owns those).
OWN_DELETES = [s for s in TENANT_DELETES if "SELECT" not in s and not any(t in s for t in SCANNED_ON_PURPOSE)]


@pytest.mark.parametrize("statement", OWN_DELETES + list(TENANT_READS))
async def test_a_tenants_statement_reads_its_part_of_an_index(db: Db, statement: str) -> None:
    _dialect, plan = await _plan(db, statement)

    assert _scans(plan) == [], plan
    assert _by_tenant(plan), plan
