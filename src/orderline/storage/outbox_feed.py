"""The outbox as live streams read it: positions, and the events after one that no running transaction can precede.

PostgreSQL hands out `seq` values before commit, so transactions can commit out of seq order: a reader that
served seq 11 must not skip seq 10 committing a moment later. There, each row carries its writer's
transaction id (`tx_id`, migration 0013), streams run in (tx_id, seq) order, and a row is served only once
its transaction is older than every transaction of this database still running (from the reader's snapshot):
any row that commits later belongs to a younger transaction and so sorts after everything served. SQLite has one
writer at a time, which commits in seq order, so there the position is the seq alone (ADR 0030).
"""

from __future__ import annotations

from uuid import UUID

from orderline.application.ports import START, OutboxBatch, OutboxEntry, StreamPosition
from orderline.storage.driver import Connection, Params, Row
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase

# The oldest transaction that was running when this snapshot was taken and may be writing to this database, as a
# BIGINT like tx_id: every row of an older transaction is settled (visible, or rolled back for good). Transactions
# of the cluster's other databases are left out (a migration or a batch job elsewhere holds nothing back) when
# pg_stat_activity still shows them there; one that ended meanwhile, or that this role may not see, counts, to be
# safe. None running: the snapshot's xmax, the next id to be handed out.
_HORIZON = """(SELECT COALESCE(
    (SELECT min(running::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
      WHERE xid(running) NOT IN (
        SELECT backend_xid FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL
           AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint))"""


class SqlOutboxFeed:
    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._db = db

    async def head(self, tenant: UUID, order_id: UUID | None) -> StreamPosition:
        async with self._db.snapshot(tenant) as uow:
            connection = uow.connection
            of_order, params = _of_order(tenant, order_id)
            if connection.dialect == "postgresql":
                sql = (
                    f"SELECT tx_id, seq FROM outbox WHERE tx_id < {_HORIZON}{of_order}"  # noqa: S608
                    " ORDER BY tx_id DESC, seq DESC LIMIT 1"
                )
            else:
                sql = f"SELECT 0 AS tx_id, seq FROM outbox WHERE 1 = 1{of_order} ORDER BY seq DESC LIMIT 1"  # noqa: S608
            row = await connection.fetch_one(sql, params)
        return _position(row) if row is not None else START

    async def position_of(self, tenant: UUID, seq: int, order_id: UUID | None) -> StreamPosition | None:
        async with self._db.snapshot(tenant) as uow:
            of_order, params = _of_order(tenant, order_id)
            row = await uow.connection.fetch_one(
                f"SELECT COALESCE(tx_id, 0) AS tx_id, seq FROM outbox WHERE seq = :seq{of_order}",  # noqa: S608
                {**params, "seq": seq},
            )
        return _position(row) if row is not None else None

    async def after(self, tenant: UUID, position: StreamPosition, order_id: UUID | None, limit: int) -> OutboxBatch:
        async with self._db.snapshot(tenant) as uow:
            if uow.connection.dialect == "postgresql":
                return await _after_settled(uow.connection, tenant, position, order_id, limit)
            of_order, params = _of_order(tenant, order_id)
            rows = await uow.connection.fetch_all(
                f"SELECT 0 AS tx_id, seq, event_type, payload FROM outbox WHERE seq > :seq{of_order}"  # noqa: S608
                " ORDER BY seq LIMIT :limit",
                {**params, "seq": position.seq, "limit": limit},
            )
        return OutboxBatch([_entry(row) for row in rows])


async def _after_settled(
    connection: Connection, tenant: UUID, position: StreamPosition, order_id: UUID | None, limit: int
) -> OutboxBatch:
    """PostgreSQL: the rows after ``position`` in (tx_id, seq) order, up to the first whose transaction is not
    older than every running one; ``held_back`` when there is such a row (it is visible, so it committed)."""
    of_order, params = _of_order(tenant, order_id)
    rows = await connection.fetch_all(
        f"SELECT tx_id, seq, event_type, payload::text AS payload, tx_id >= {_HORIZON} AS unsettled"  # noqa: S608
        f" FROM outbox WHERE (tx_id, seq) > (:tx, :seq){of_order} ORDER BY tx_id, seq LIMIT :limit",
        {**params, "tx": position.tx, "seq": position.seq, "limit": limit},
    )
    settled: list[OutboxEntry] = []
    for row in rows:
        if row["unsettled"]:
            return OutboxBatch(settled, held_back=True)
        settled.append(_entry(row))
    return OutboxBatch(settled)


def _of_order(tenant: UUID, order_id: UUID | None) -> tuple[str, Params]:
    """The tenant's events (ADR 0040), and of one order when ``order_id`` is given."""
    if order_id is None:
        return " AND tenant_id = :tenant", {"tenant": tenant}
    return " AND tenant_id = :tenant AND order_id = :order_id", {"tenant": tenant, "order_id": order_id}


def _position(row: Row) -> StreamPosition:
    return StreamPosition(int(row["tx_id"]), int(row["seq"]))


def _entry(row: Row) -> OutboxEntry:
    payload = row["payload"]
    return OutboxEntry(_position(row), str(row["event_type"]), payload if isinstance(payload, str) else str(payload))
