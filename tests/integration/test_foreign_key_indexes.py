"""The look-up a foreign-key check makes finds its rows through an index, on both engines (ADR 0040, migration 0022).

Deleting a row of a parent table makes each engine look, per row deleted, for the children that refer to it: by
the referencing column alone, never by tenant. PostgreSQL's foreign-key trigger runs
``SELECT 1 FROM ONLY orders x WHERE $1 = voucher_id FOR KEY SHARE OF x`` (``NO ACTION``) or
``UPDATE ONLY orders SET billing_address_id = NULL WHERE $1 = billing_address_id`` (``SET NULL``) as saved,
prepared plans; SQLite runs the same searches inside the DELETE's own program. Without an index on the column
each one reads every tenant's orders, so deleting a small sandbox tenant's vouchers and addresses took time in
proportion to every other tenant's orders.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from orderline.application.principal import PUBLIC
from orderline.storage.schema import metadata
from tests.support import Db


def _foreign_keys() -> list[tuple[str, str]]:
    """Each single-column foreign key of the metadata as (child table, referencing column)."""
    return sorted(
        (table.name, next(iter(key.columns)).name)
        for table in metadata.sorted_tables
        for key in table.foreign_key_constraints
        if len(key.columns) == 1
    )


def _leading_columns(table_name: str) -> set[str]:
    table = metadata.tables[table_name]
    firsts = {next(iter(index.columns)).name for index in table.indexes}
    # a primary key or unique constraint is an index too; a foreign key constraint is not
    keyed = [c for c in table.constraints if isinstance(c, PrimaryKeyConstraint | UniqueConstraint) and len(c.columns)]
    return firsts | {next(iter(c.columns)).name for c in keyed}


def test_every_foreign_key_leads_an_index_of_its_table() -> None:
    keys = _foreign_keys()

    unindexed = [(table, column) for table, column in keys if column not in _leading_columns(table)]

    assert ("orders", "voucher_id") in keys  # the list is read right
    assert ("dashboard_sessions", "user_id") in keys
    assert unindexed == []


# The searches a deletion of a parent row makes among its children, as each engine runs them.
CHECKS = [
    # (child, column, PostgreSQL's trigger statement)
    ("orders", "voucher_id",
     "SELECT 1 FROM ONLY orders x WHERE $1 OPERATOR(pg_catalog.=) voucher_id FOR KEY SHARE OF x"),
    ("orders", "billing_address_id", "UPDATE ONLY orders SET billing_address_id = NULL"
     " WHERE $1 OPERATOR(pg_catalog.=) billing_address_id"),
    ("dashboard_sessions", "user_id",
     "SELECT 1 FROM ONLY dashboard_sessions x WHERE $1 OPERATOR(pg_catalog.=) user_id FOR KEY SHARE OF x"),
]  # fmt: skip

# SQLite's plan of a parent's DELETE shows the foreign-key searches it runs for each row deleted.
SQLITE_DELETES = {
    "voucher_id": "DELETE FROM vouchers WHERE id = :id",
    "billing_address_id": "DELETE FROM billing_addresses WHERE id = :id",
    "user_id": "DELETE FROM users WHERE id = :id",
}

_INDEX_USED = re.compile(
    r"(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on|USING (?:COVERING )?INDEX) (\w+)"
)


async def _plan(db: Db, child: str, column: str, trigger_statement: str) -> tuple[str, str]:
    async with db.transaction(PUBLIC) as uow:  # never committed
        connection = uow.connection
        if connection.dialect == "sqlite":
            rows = await connection.fetch_all(
                f"EXPLAIN QUERY PLAN {SQLITE_DELETES[column]}", {"id": "0190f5c2-7d3e-7a1b-8c2d-0000000000a7"}
            )
            plan = "\n".join(str(row["detail"]) for row in rows)
            return connection.dialect, "\n".join(line for line in plan.splitlines() if child in line)
        # The trigger's statements are saved plans; a generic one cannot know the value. Sequential scans are
        # priced out (the tables are empty): the question is whether an index could serve at all.
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await connection.execute("SET LOCAL enable_seqscan = off")
        await connection.execute(f"PREPARE foreign_key_check (uuid) AS {trigger_statement}")
        rows = await connection.fetch_all("EXPLAIN EXECUTE foreign_key_check('0190f5c2-7d3e-7a1b-8c2d-0000000000a7')")
        await connection.execute("DEALLOCATE foreign_key_check")
        return connection.dialect, "\n".join(str(row["QUERY PLAN"]) for row in rows)


@pytest.mark.parametrize(("child", "column", "trigger_statement"), CHECKS, ids=[c[1] for c in CHECKS])
async def test_a_foreign_key_check_searches_an_index_on_the_referencing_column(
    db: Db, child: str, column: str, trigger_statement: str
) -> None:
    dialect, plan = await _plan(db, child, column, trigger_statement)

    assert plan, plan  # the check is in the plan at all
    assert "SCAN " + child not in plan.replace("Seq Scan on", "SCAN"), plan
    used = _INDEX_USED.findall(plan)
    assert used == [f"ix_{child}_{column}"], f"{dialect}\n{plan}"
