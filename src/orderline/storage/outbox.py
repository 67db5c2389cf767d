"""The outbox in SQL: append events in the transaction that caused them (ADR 0027); the relay reads them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
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
        params: dict[str, Any] = {}
        for n, event in enumerate(events):
            params |= _params(event, self._tenant, n)
        await self._db.write(Write(_insert(len(events)), params, returning="seq", summary=_NOTIFY))


@lru_cache(maxsize=16)
def _insert(count: int) -> str:
    """The INSERT of ``count`` rows: its text depends on nothing else, so it is written once (ADR 0046)."""
    rows = ", ".join("(" + ", ".join(f":{column}{n}" for column in _COLUMNS) + ")" for n in range(count))
    return f"INSERT INTO outbox ({', '.join(_COLUMNS)}) VALUES {rows}"  # noqa: S608


def _params(event: EventRecord, tenant: UUID, n: int) -> dict[str, Any]:
    """The ``n``th row's parameters, named as ``_insert`` numbers them."""
    return {
        f"id{n}": event.id,
        f"event_type{n}": event.event_type,
        f"order_id{n}": event.order_id,
        f"subscription_id{n}": event.subscription_id,
        f"payload{n}": to_json(event.payload),
        f"occurred_at{n}": event.occurred_at,
        f"tenant_id{n}": tenant,
    }
