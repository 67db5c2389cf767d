"""The SQL of webhook delivery: the outbox fanned out to deliveries, and deliveries leased, sent and settled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from orderline.application.ports import (
    DueDelivery,
    EventRoute,
    IdGenerator,
    OutboxEvent,
    Settlement,
    Subscriber,
)
from orderline.storage.driver import Connection, Params, Row
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.rows import as_opt_datetime, as_opt_uuid, as_uuid, from_json
from orderline.storage.sqlite import SqliteDatabase

# A receiver's answer is kept to this many characters: enough to read the error, not a copy of a page.
RESPONSE_EXCERPT = 500
# Rows per multi-row INSERT: far below SQLite's limit on bound parameters (32766) at 9 per row.
INSERT_CHUNK = 200
# Candidates scanned per delivery wanted: the per-subscription cap may set some aside.
SCAN_FACTOR = 4


def _skip_locked(connection: Connection, of: str = "") -> str:
    """PostgreSQL: lock the rows taken and pass over those another worker holds. SQLite: its one writer
    already serialises every claim, so there is nothing to skip."""
    if connection.dialect != "postgresql":
        return ""
    return f" FOR UPDATE{f' OF {of}' if of else ''} SKIP LOCKED"


def _in(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``:name0, :name1, ...`` and their parameters, for an ``IN (...)`` both engines read the same way."""
    params = {f"{name}{index}": value for index, value in enumerate(values)}
    return ", ".join(f":{key}" for key in params), params


def _event(row: Row) -> OutboxEvent:
    return OutboxEvent(
        seq=int(row["seq"]),
        id=as_uuid(row["id"]),
        event_type=str(row["event_type"]),
        order_id=as_opt_uuid(row["order_id"]),
        subscription_id=as_opt_uuid(row["subscription_id"]),
        tenant=as_uuid(row["tenant_id"]),
    )


def _subscriber(row: Row) -> Subscriber:
    return Subscriber(
        id=as_uuid(row["id"]),
        events=tuple(str(pattern) for pattern in from_json(row["events"]) or ()),
        order_id=as_opt_uuid(row["order_id"]),
        tenant=as_uuid(row["tenant_id"]),
    )


def _due(row: Row, lease: datetime) -> DueDelivery:
    return DueDelivery(
        id=as_uuid(row["id"]),
        subscription_id=as_uuid(row["subscription_id"]),
        url=str(row["url"]),
        secret=str(row["secret"]),
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=as_opt_datetime(row["previous_secret_expires_at"]),
        event_id=as_uuid(row["event_id"]),
        event_seq=int(row["event_seq"]),
        order_id=as_opt_uuid(row["order_id"]),
        # Compact JSON of the stored payload: the same bytes on every attempt (PostgreSQL's jsonb keeps its
        # own key order, so the bytes may differ from the writer's, never from one attempt to the next).
        body=msgspec.json.encode(from_json(row["payload"])),
        attempts=int(row["attempts"]),
        lease=lease,
        tenant=as_uuid(row["tenant_id"]),
    )


class SqlDeliveryQueue:
    """``DeliveryQueue`` on either engine; each method is one write transaction."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._db = db

    async def _any(self, sql: str, params: Params | None = None) -> bool:
        """A read-only look first, so an idle worker never takes the write lock (SQLite's is the whole file)."""
        async with self._db.snapshot() as uow:
            return await uow.connection.fetch_one(sql, params) is not None

    async def relay(self, limit: int, now: datetime, ids: IdGenerator, route: EventRoute) -> int:
        if not await self._any("SELECT 1 FROM outbox WHERE dispatched_at IS NULL LIMIT 1"):
            return 0
        async with self._db.transaction() as uow:
            connection = uow.connection
            rows = await connection.fetch_all(_UNDISPATCHED + _skip_locked(connection), {"limit": limit})
            if not rows:
                return 0
            events = [_event(row) for row in rows]
            subscribers = await self._subscribers(connection, events)
            # The relay reads every tenant's events; each goes to its own tenant's subscriptions only (ADR 0040).
            of_tenant: dict[UUID, list[Subscriber]] = {}
            for subscriber in subscribers:
                of_tenant.setdefault(subscriber.tenant, []).append(subscriber)
            deliveries = [
                {"event": event, "subscription_id": subscription_id}
                for event in events
                for subscription_id in route(event, of_tenant.get(event.tenant, []))
            ]
            await self._insert(connection, deliveries, now, ids)
            seqs, params = _in("seq", [event.seq for event in events])
            await connection.execute(
                f"UPDATE outbox SET dispatched_at = :now WHERE seq IN ({seqs})",  # noqa: S608
                {"now": now, **params},
            )
            await uow.commit()
            return len(events)

    async def _subscribers(self, connection: Connection, events: Sequence[OutboxEvent]) -> list[Subscriber]:
        """The active subscriptions, and the active order callbacks of the orders these events are about."""
        order_ids = sorted({event.order_id for event in events if event.order_id is not None})
        callbacks = ""
        params: dict[str, Any] = {}
        if order_ids:
            listed, params = _in("order", order_ids)
            callbacks = f" OR order_id IN ({listed})"
        rows = await connection.fetch_all(
            f"SELECT id, events, order_id, tenant_id FROM webhook_subscriptions WHERE active AND (order_id IS NULL{callbacks})",  # noqa: S608,E501
            params,
        )
        return [_subscriber(row) for row in rows]

    async def _insert(
        self, connection: Connection, deliveries: Sequence[dict[str, Any]], now: datetime, ids: IdGenerator
    ) -> None:
        for start in range(0, len(deliveries), INSERT_CHUNK):
            values: list[str] = []
            params: dict[str, Any] = {"now": now}
            for index, delivery in enumerate(deliveries[start : start + INSERT_CHUNK]):
                event: OutboxEvent = delivery["event"]
                values.append(
                    f"(:id{index}, :sub{index}, :event{index}, :seq{index}, :order{index}, 'PENDING', 0, :now, :now,"
                    f" :tenant{index})"
                )
                params |= {
                    f"id{index}": ids.new_id(),
                    f"sub{index}": delivery["subscription_id"],
                    f"event{index}": event.id,
                    f"seq{index}": event.seq,
                    f"order{index}": event.order_id,
                    f"tenant{index}": event.tenant,
                }
            await connection.execute(_INSERT + ", ".join(values), params)

    async def claim(self, now: datetime, lease: datetime, limit: int, per_subscription: int) -> list[DueDelivery]:
        if not await self._any(_ANY_DUE, {"now": now}):
            return []
        async with self._db.transaction() as uow:
            connection = uow.connection
            busy = await self._leased_per_subscription(connection, now)
            full = [subscription for subscription, leased in busy.items() if leased >= per_subscription]
            exclude, params = "", dict[str, Any]()
            if full:
                listed, params = _in("full", full)
                exclude = f" AND d.subscription_id NOT IN ({listed})"
            candidates = await connection.fetch_all(
                _CANDIDATES.format(exclude=exclude, lock=_skip_locked(connection, "d")),
                {
                    "now": now,
                    "scan": limit * SCAN_FACTOR,
                    **params,
                },
            )
            chosen = _within_caps(candidates, busy, limit, per_subscription)
            if not chosen:
                return []
            listed, params = _in("id", chosen)
            await connection.execute(
                f"UPDATE webhook_deliveries SET locked_until = :lease WHERE id IN ({listed})",  # noqa: S608
                {"lease": lease, **params},
            )
            rows = await connection.fetch_all(_DETAILS.format(ids=listed), params)
            await uow.commit()
        due = {as_uuid(row["id"]): _due(row, lease) for row in rows}
        return [due[delivery_id] for delivery_id in chosen if delivery_id in due]

    async def _leased_per_subscription(self, connection: Connection, now: datetime) -> dict[UUID, int]:
        rows = await connection.fetch_all(
            "SELECT subscription_id, COUNT(*) AS leased FROM webhook_deliveries"
            " WHERE status = 'PENDING' AND locked_until > :now GROUP BY subscription_id",
            {"now": now},
        )
        return {as_uuid(row["subscription_id"]): int(row["leased"]) for row in rows}

    async def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        recorded = []
        async with self._db.transaction() as uow:
            for settlement in settlements:
                kept = await _record(uow.connection, settlement)
                if kept and settlement.disable:
                    await uow.connection.execute(
                        "UPDATE webhook_subscriptions SET active = :active, disabled_reason = :reason, updated_at = :at"
                        " WHERE id = :id AND active",
                        {
                            "active": False,
                            "reason": settlement.disable,
                            "at": settlement.attempt.at,
                            "id": settlement.delivery.subscription_id,
                        },
                    )
                recorded.append(kept)
            await uow.commit()
        return recorded


def _within_caps(candidates: Sequence[Row], busy: dict[UUID, int], limit: int, per_subscription: int) -> list[UUID]:
    """The first ``limit`` candidates, at most ``per_subscription`` leased per subscription in all."""
    leased = dict(busy)
    chosen: list[UUID] = []
    for row in candidates:
        subscription = as_uuid(row["subscription_id"])
        if leased.get(subscription, 0) >= per_subscription:
            continue
        leased[subscription] = leased.get(subscription, 0) + 1
        chosen.append(as_uuid(row["id"]))
        if len(chosen) == limit:
            break
    return chosen


async def _record(connection: Connection, settlement: Settlement) -> bool:
    """Write one attempt's outcome, if its sender still holds the lease it claimed the delivery with."""
    delivery, attempt = settlement.delivery, settlement.attempt
    params: Params = {
        "id": delivery.id,
        "lease": delivery.lease,
        "status": settlement.status,
        "at": attempt.at,
        "next": settlement.retry_at,
        "code": attempt.status_code,
        "response": attempt.response[:RESPONSE_EXCERPT],
        "delivered": attempt.at if settlement.status == "DELIVERED" else None,
    }
    changed = await connection.execute(
        "UPDATE webhook_deliveries SET status = :status, attempts = attempts + 1, next_attempt_at = :next,"
        " locked_until = NULL, last_attempt_at = :at, last_status_code = :code, last_response = :response,"
        " delivered_at = :delivered WHERE id = :id AND status = 'PENDING' AND locked_until = :lease",
        params,
    )
    return changed == 1


_ANY_DUE = (
    "SELECT 1 FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= :now"
    " AND (locked_until IS NULL OR locked_until <= :now) LIMIT 1"
)
_UNDISPATCHED = (
    "SELECT seq, id, event_type, order_id, subscription_id, tenant_id FROM outbox WHERE dispatched_at IS NULL"
    " ORDER BY seq"
    " LIMIT :limit"
)
_INSERT = (
    "INSERT INTO webhook_deliveries"
    " (id, subscription_id, event_id, event_seq, order_id, status, attempts, next_attempt_at, created_at, tenant_id)"
    " VALUES "
)

# Due, not leased, of an active subscription, and first in line for its order: no earlier event of the same
# order is pending for the same subscription, nor still undispatched in the outbox (a relay on PostgreSQL may
# commit a later batch before an earlier one). Oldest due first.
_CANDIDATES = """
SELECT d.id, d.subscription_id FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.status = 'PENDING' AND d.next_attempt_at <= :now
  AND (d.locked_until IS NULL OR d.locked_until <= :now)
  AND s.active{exclude}
  AND (d.order_id IS NULL OR (
    NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                WHERE e.subscription_id = d.subscription_id AND e.order_id = d.order_id
                  AND e.event_seq < d.event_seq AND e.status = 'PENDING')
    AND NOT EXISTS (SELECT 1 FROM outbox o
                    WHERE o.order_id = d.order_id AND o.seq < d.event_seq AND o.dispatched_at IS NULL)))
ORDER BY d.next_attempt_at, d.event_seq
LIMIT :scan{lock}
"""

_DETAILS = """
SELECT d.id, d.subscription_id, s.url, s.secret, s.previous_secret, s.previous_secret_expires_at,
       d.event_id, d.event_seq, d.order_id, d.attempts, o.payload, d.tenant_id
FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
JOIN outbox o ON o.seq = d.event_seq
WHERE d.id IN ({ids})
"""
