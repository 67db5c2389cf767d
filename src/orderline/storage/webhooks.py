"""Webhook subscriptions in SQL, their deliveries as /v1/webhooks reads and replays them, and the outbox rows
that replays read and pings write. Order callbacks (``order_id`` set) are invisible here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from orderline.application.ports import (
    DeliveryQuery,
    DeliveryStatus,
    OutboxEventRef,
    WebhookDelivery,
    WebhookSubscription,
)
from orderline.application.webhooks import EVENT_TYPES, EVERYTHING, FAMILIES, PING
from orderline.storage.driver import Connection, Row
from orderline.storage.keys import key_of
from orderline.storage.rows import (
    as_datetime,
    as_opt_datetime,
    as_opt_uuid,
    as_uuid,
    from_json,
    to_json,
)

_COLUMNS = (
    "id, url, events, description, active, secret, previous_secret, previous_secret_expires_at, disabled_reason,"
    " order_id, created_at, updated_at"
)
_DELIVERY_COLUMNS = (
    "d.id, d.subscription_id, d.event_id, d.event_seq, o.event_type, d.order_id, d.status, d.attempts,"
    " d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_response, d.created_at, d.delivered_at"
)
# Who receives an outbox event: a ping, only the subscription it names; anything else, every subscription
# whose patterns match it. The patterns are checked against PATTERNS before they are stored.
_FOR_IT = "o.subscription_id = :subscription_id"

# One subscription by its key within the tenant, as written: the primary key in every state of the statistics
# tests/integration/test_by_key_plans.py tries (ADR 0045); (tenant_id, order_id) never won.
_BY_ID = f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE id = :id AND tenant_id = :tenant AND order_id IS NULL"  # noqa: S608
_LOCKED = _BY_ID
_SAVE = """UPDATE webhook_subscriptions
SET url = :url, events = :events, description = :description, active = :active, secret = :secret,
    previous_secret = :previous_secret, previous_secret_expires_at = :previous_secret_expires_at,
    disabled_reason = :disabled_reason, updated_at = :updated_at
WHERE id = :id AND tenant_id = :tenant AND order_id IS NULL"""
_REMOVE = "DELETE FROM webhook_subscriptions WHERE id = :id AND tenant_id = :tenant AND order_id IS NULL"
# A delivery by its key, its subscription and tenant compared outside (storage/keys.py, ADR 0045): never by the
# subscription's or the tenant's index, which walk every delivery of either.
_DELIVERY = f"""SELECT {_DELIVERY_COLUMNS}
FROM (SELECT * FROM webhook_deliveries WHERE id = :id LIMIT 1) d LEFT JOIN outbox o ON o.id = d.event_id
WHERE d.subscription_id = :subscription_id AND d.tenant_id = :tenant"""  # noqa: S608
_REQUEUE = f"""UPDATE webhook_deliveries SET status = :status, attempts = 0, next_attempt_at = :now, delivered_at = NULL
WHERE id = {key_of("webhook_deliveries")}"""  # noqa: S608


class SqlWebhookRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def add(self, subscription: WebhookSubscription) -> None:
        sql = f"""INSERT INTO webhook_subscriptions ({_COLUMNS}, tenant_id)
                  VALUES (:id, :url, :events, :description, :active, :secret, :previous_secret,
                          :previous_secret_expires_at, :disabled_reason, :order_id, :created_at, :updated_at,
                          :tenant)"""  # noqa: S608
        await self._db.execute(sql, {**_params(subscription), "tenant": self._tenant})

    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> WebhookSubscription | None:
        sql = _LOCKED + self._db.for_update() if for_update else _BY_ID
        row = await self._db.fetch_one(sql, {"id": subscription_id, "tenant": self._tenant})
        return None if row is None else _subscription(row)

    async def save(self, subscription: WebhookSubscription) -> None:
        params = {**_params(subscription), "tenant": self._tenant}
        del params["order_id"], params["created_at"]
        await self._db.execute(_SAVE, params)

    async def remove(self, subscription_id: UUID) -> bool:
        # The deliveries go with it (ON DELETE CASCADE); its pings stay in the outbox, as every event does.
        return await self._db.execute(_REMOVE, {"id": subscription_id, "tenant": self._tenant}) == 1

    async def find(self, limit: int, after_id: UUID | None) -> list[WebhookSubscription]:
        after = "AND id > :after" if after_id is not None else ""
        sql = f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE tenant_id = :tenant AND order_id IS NULL {after} ORDER BY id LIMIT :limit"  # noqa: S608,E501
        params: dict[str, Any] = {"limit": limit + 1, "tenant": self._tenant}
        params |= {"after": after_id} if after_id is not None else {}
        return [_subscription(row) for row in await self._db.fetch_all(sql, params)]

    async def deliveries(self, query: DeliveryQuery) -> list[WebhookDelivery]:
        where = ["d.subscription_id = :subscription_id", "d.tenant_id = :tenant"]
        params: dict[str, Any] = {"subscription_id": query.subscription_id, "limit": query.limit + 1}
        params["tenant"] = self._tenant
        if query.status is not None:
            where.append("d.status = :status")
            params["status"] = query.status.value
        if query.before_id is not None:
            where.append("d.id < :before")
            params["before"] = query.before_id
        sql = f"""SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d LEFT JOIN outbox o ON o.id = d.event_id
                  WHERE {" AND ".join(where)} ORDER BY d.id DESC LIMIT :limit"""  # noqa: S608
        return [_delivery(row) for row in await self._db.fetch_all(sql, params)]

    async def get_delivery(self, subscription_id: UUID, delivery_id: UUID) -> WebhookDelivery | None:
        row = await self._db.fetch_one(
            _DELIVERY, {"id": delivery_id, "subscription_id": subscription_id, "tenant": self._tenant}
        )
        return None if row is None else _delivery(row)

    async def requeue(self, delivery_id: UUID, now: datetime) -> None:
        params = {"id": delivery_id, "now": now, "status": DeliveryStatus.PENDING.value, "tenant": self._tenant}
        await self._db.execute(_REQUEUE, params)

    async def events_since(
        self, subscription_id: UUID, patterns: Sequence[str], since: datetime, limit: int
    ) -> list[OutboxEventRef]:
        matching, params = _matching(patterns)
        sql = f"""SELECT o.id, o.seq, o.order_id, o.occurred_at FROM outbox o
                  WHERE o.occurred_at >= :since AND o.tenant_id = :tenant
                    AND ((o.subscription_id IS NULL AND {matching}) OR {_FOR_IT})
                  ORDER BY o.seq LIMIT :limit"""  # noqa: S608
        params |= {"since": since, "subscription_id": subscription_id, "limit": limit, "tenant": self._tenant}
        rows = await self._db.fetch_all(sql, params)
        return [
            OutboxEventRef(as_uuid(r["id"]), int(r["seq"]), as_opt_uuid(r["order_id"]), as_datetime(r["occurred_at"]))
            for r in rows
        ]

    async def add_deliveries(
        self, subscription_id: UUID, events: Sequence[tuple[UUID, OutboxEventRef]], now: datetime
    ) -> None:
        sql = """INSERT INTO webhook_deliveries
                   (id, subscription_id, event_id, event_seq, order_id, status, attempts, next_attempt_at, created_at,
                    tenant_id)
                 VALUES (:id, :subscription_id, :event_id, :event_seq, :order_id, :status, 0, :now, :now, :tenant)"""
        for delivery_id, event in events:
            await self._db.execute(
                sql,
                {
                    "id": delivery_id,
                    "subscription_id": subscription_id,
                    "event_id": event.id,
                    "event_seq": event.seq,
                    "order_id": event.order_id,
                    "status": DeliveryStatus.PENDING.value,
                    "now": now,
                    "tenant": self._tenant,
                },
            )


def _matching(patterns: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """SQL true for the event types ``patterns`` name (checked patterns only: known types and families)."""
    if EVERYTHING in patterns:
        return "o.event_type <> :ping", {"ping": PING}
    exact = [p for p in patterns if p in EVENT_TYPES]
    families = [p.removesuffix(".*") for p in patterns if p.removesuffix(".*") in FAMILIES and p.endswith(".*")]
    terms = [f"o.event_type = :type_{n}" for n in range(len(exact))]
    terms += [f"o.event_type LIKE :family_{n}" for n in range(len(families))]
    params = {f"type_{n}": name for n, name in enumerate(exact)} | {
        f"family_{n}": f"{name}.%" for n, name in enumerate(families)
    }
    return ("(" + " OR ".join(terms) + ")" if terms else "1 = 0"), params


def _params(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": to_json(list(subscription.events)),
        "description": subscription.description,
        "active": subscription.active,
        "secret": subscription.secret,
        "previous_secret": subscription.previous_secret,
        "previous_secret_expires_at": subscription.previous_secret_expires_at,
        "disabled_reason": subscription.disabled_reason,
        "order_id": subscription.order_id,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


def _subscription(row: Row) -> WebhookSubscription:
    return WebhookSubscription(
        id=as_uuid(row["id"]),
        url=row["url"],
        events=tuple(from_json(row["events"])),
        description=row["description"],
        active=bool(row["active"]),
        secret=row["secret"],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=as_opt_datetime(row["previous_secret_expires_at"]),
        disabled_reason=row["disabled_reason"],
        order_id=as_opt_uuid(row["order_id"]),
    )


def _delivery(row: Row) -> WebhookDelivery:
    return WebhookDelivery(
        id=as_uuid(row["id"]),
        subscription_id=as_uuid(row["subscription_id"]),
        event_id=as_uuid(row["event_id"]),
        event_seq=int(row["event_seq"]),
        event_type=row["event_type"],
        order_id=as_opt_uuid(row["order_id"]),
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=as_opt_datetime(row["next_attempt_at"]),
        last_attempt_at=as_opt_datetime(row["last_attempt_at"]),
        last_status_code=row["last_status_code"],
        last_response=row["last_response"],
        created_at=as_datetime(row["created_at"]),
        delivered_at=as_opt_datetime(row["delivered_at"]),
    )
