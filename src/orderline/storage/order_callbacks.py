"""Order callbacks as webhook_subscriptions rows with `order_id` set: the worker delivers them like any other
subscription, and /v1/webhooks never lists them."""

from __future__ import annotations

from uuid import UUID

from orderline.application.ports import OrderCallback, UnitOfWork
from orderline.storage.driver import Row
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.rows import as_datetime, as_uuid, from_json, to_json
from orderline.storage.sqlite import SqliteDatabase
from orderline.storage.unit_of_work import SqlUnitOfWork

_COLUMNS = "id, url, events, description, active, secret, order_id, created_at, updated_at, tenant_id"


class SqlOrderCallbacks:
    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._db = db

    async def add(self, uow: UnitOfWork, callback: OrderCallback) -> None:
        assert isinstance(uow, SqlUnitOfWork)  # the only unit of work there is; the port keeps storage out of sight
        await uow.connection.execute(
            f"INSERT INTO webhook_subscriptions ({_COLUMNS})"  # noqa: S608
            " VALUES (:id, :url, :events, :description, :active, :secret, :order_id, :created_at, :created_at,"
            " :tenant)",
            {
                "id": callback.id,
                "url": callback.url,
                "events": to_json(list(callback.events)),
                "description": "order callback",
                "active": True,
                "secret": callback.secret,
                "order_id": callback.order_id,
                "created_at": callback.created_at,
                "tenant": uow.tenant,  # the order's: the relay sends its events to this tenant's subscriptions
            },
        )

    async def of_order(self, order_id: UUID) -> list[OrderCallback]:
        async with self._db.snapshot() as uow:
            rows = await uow.connection.fetch_all(
                "SELECT id, url, events, secret, order_id, created_at FROM webhook_subscriptions"
                " WHERE order_id = :order_id ORDER BY created_at, id",
                {"order_id": order_id},
            )
        return [_callback(row) for row in rows]


def _callback(row: Row) -> OrderCallback:
    return OrderCallback(
        id=as_uuid(row["id"]),
        order_id=as_uuid(row["order_id"]),
        url=str(row["url"]),
        events=tuple(from_json(row["events"])),
        secret=str(row["secret"]),
        created_at=as_datetime(row["created_at"]),
    )
