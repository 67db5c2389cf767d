"""Reading the outbox in tests: the events a database holds, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from orderline.storage.rows import as_opt_uuid, as_uuid, from_json
from orderline.storage.unit_of_work import SqlUnitOfWork
from tests.support import Db


@dataclass(frozen=True, slots=True)
class Stored:
    seq: int
    id: UUID
    event_type: str
    order_id: UUID | None
    payload: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload["data"]
        return data


async def outbox(db: Db, order_id: UUID | str | None = None) -> list[Stored]:
    """Every event in the outbox (of one order, when given), in stream order."""
    where, params = ("WHERE order_id = :order_id", {"order_id": as_uuid(order_id)}) if order_id else ("", {})
    async with db.snapshot() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        rows = await uow.connection.fetch_all(
            f"SELECT seq, id, event_type, order_id, payload FROM outbox {where} ORDER BY seq", params
        )
    return [
        Stored(int(row["seq"]), as_uuid(row["id"]), row["event_type"], as_opt_uuid(row["order_id"]),
               from_json(row["payload"]))
        for row in rows
    ]  # fmt: skip


async def types(db: Db, order_id: UUID | str | None = None) -> list[str]:
    return [event.event_type for event in await outbox(db, order_id)]
