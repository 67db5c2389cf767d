"""One row of a tenant's by its key, in statements whose plan cannot walk the tenant's rows (ADR 0045).

``WHERE id = :id AND tenant_id = :tenant`` leaves the planner a choice: the primary key, or an index that leads
with the tenant. Statistics that lag (a table analysed while each tenant had a row or two, so ``tenant_id``
looked unique; another table's ``status`` between the tenant and the key) make both look like one row, and
PostgreSQL and SQLite alike then took the tenant's index and walked every row of a tenant with thousands
(tests/integration/test_by_key_plans.py). Here the row is found by its key alone, in a subquery with a LIMIT
(neither engine pushes a condition into one), and its tenant is compared outside.
"""

from __future__ import annotations


def found(table: str, columns: str, where: str = "") -> str:
    """SELECT ``columns`` of the row of ``table`` whose id is :id, if it is :tenant's and ``where`` holds of it
    (``where`` and ``columns`` name the row as ``found``). A read: a locking clause would lock the row whatever its
    tenant, so a locked read is ``WHERE id = key_of(table)``."""
    also = f" AND {where}" if where else ""
    return f"SELECT {columns} FROM (SELECT * FROM {table} WHERE id = :id LIMIT 1) found WHERE tenant_id = :tenant{also}"  # noqa: S608


def key_of(table: str, row: str = ":id", tenant: str = ":tenant") -> str:
    """A scalar subquery: ``row`` if that row of ``table`` is ``tenant``'s, else NULL. ``WHERE id = key_of(t)`` in an
    UPDATE, a DELETE or a SELECT … FOR UPDATE reaches the row by the primary key twice (the subquery, then the
    statement's own scan, whose only indexable condition is the key), and locks or changes no other tenant's row."""
    lookup = f"SELECT id, tenant_id FROM {table} WHERE id = {row} LIMIT 1"  # noqa: S608
    return f"(SELECT id FROM ({lookup}) found WHERE tenant_id = {tenant})"  # noqa: S608


def keys_of(table: str, rows: list[str]) -> str:
    """``key_of`` for several rows: a subquery of those of the keys ``rows`` (placeholders) that are :tenant's rows
    of ``table``; ``WHERE id IN keys_of(t, …)``."""
    lookup = f"SELECT id, tenant_id FROM {table} WHERE id IN ({', '.join(rows)}) LIMIT {len(rows)}"  # noqa: S608
    return f"(SELECT id FROM ({lookup}) found WHERE tenant_id = :tenant)"  # noqa: S608


def keys_in(table: str, array: str) -> str:
    """``keys_of`` for the keys in an array parameter (PostgreSQL): one statement text whatever their number, so one
    prepared statement serves every count; ``WHERE id IN keys_in(t, ':ids::uuid[]')``. Each key is looked up alone
    (a LIMIT-1 subquery per key, as ``key_of``'s): planned for an array of unknown length, a lookup of them all by
    ``id = ANY(…)`` took a sequential scan over a table of a few thousand rows. The ``LIMIT cardinality(…)``, which
    changes nothing, is what the planner sees of the array's length without its value: a tenth of its 10-element
    guess, so the generic plan costs what a custom plan of one or two keys does, and PostgreSQL keeps it after five
    executions instead of planning every execution again (about 0.25 ms of the server's CPU each)."""
    lookup = f"SELECT id, tenant_id FROM {table} WHERE id = wanted.id LIMIT 1"  # noqa: S608
    wanted = f"(SELECT id FROM unnest({array}) AS wanted (id) LIMIT cardinality({array})) wanted"  # noqa: S608
    each = f"{wanted} CROSS JOIN LATERAL ({lookup}) found"
    return f"(SELECT found.id FROM {each} WHERE found.tenant_id = :tenant)"  # noqa: S608
