"""The outbox in SQL: append events in the transaction that caused them (ADR 0027); the relay reads them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from orderline.application.ports import EventRecord
from orderline.storage.driver import Connection, Write
from orderline.storage.rows import to_json

_COLUMNS = ("id", "event_type", "order_id", "subscription_id", "payload", "occurred_at", "tenant_id")
CHANNEL = "orderline_outbox"  # LISTEN orderline_outbox: the payload is the newest seq committed with it
_NOTIFY = f"pg_notify('{CHANNEL}', MAX(seq)::text)"  # PostgreSQL: of the rows one INSERT returned


class SqlOutboxRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def add(self, events: Sequence[EventRecord]) -> None:
        """One multi-row INSERT for all of them, sent with the COMMIT's statement (PostgreSQL: with the audit
        entries and the saves still queued, ADR 0034). On PostgreSQL the same statement NOTIFYs the newest seq: a
        notification is delivered at COMMIT, and never for a transaction that rolls back."""
        if not events:
            return
        rows = ", ".join("(" + ", ".join(f":{column}{n}" for column in _COLUMNS) + ")" for n in range(len(events)))
        params = {
            f"{column}{n}": value
            for n, event in enumerate(events)
            for column, value in _params(event, self._tenant).items()
        }
        insert = f"INSERT INTO outbox ({', '.join(_COLUMNS)}) VALUES {rows}"  # noqa: S608
        await self._db.write(Write(insert, params, returning="seq", summary=_NOTIFY))


def _params(event: EventRecord, tenant: UUID) -> dict[str, Any]:
    return {
        "id": event.id,
        "event_type": event.event_type,
        "order_id": event.order_id,
        "subscription_id": event.subscription_id,
        "payload": to_json(event.payload),
        "occurred_at": event.occurred_at,
        "tenant_id": tenant,
    }
