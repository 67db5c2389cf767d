"""Rows the webhook tests put straight into the database: outbox events, deliveries a sender would have made, and
an order's callback. (The relay and the sender are not these tests' subject.)"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from uuid_utils.compat import uuid7

from tests.support import START, Db


async def an_event(
    db: Db, event_type: str = "order.created", *, at: datetime = START, subscription_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """An outbox row; returns its id and seq."""
    event_id = uuid7()
    payload = {"eventId": str(event_id), "eventType": event_type, "timestamp": at.isoformat(), "data": {}}
    async with db.transaction() as uow:
        row = await uow.connection.fetch_one(
            """INSERT INTO outbox (id, event_type, order_id, subscription_id, payload, occurred_at)
               VALUES (:id, :event_type, :order_id, :subscription_id, :payload, :at) RETURNING seq""",
            {"id": event_id, "event_type": event_type, "order_id": uuid7(), "subscription_id": subscription_id,
             "payload": json.dumps(payload), "at": at},
        )  # fmt: skip
        await uow.commit()
    assert row is not None
    return {"id": event_id, "seq": int(row["seq"])}


async def a_delivery(
    db: Db, subscription_id: uuid.UUID | str, event: dict[str, Any], *, status: str = "PENDING", attempts: int = 0,
    code: int | None = None, response: str | None = None,
) -> uuid.UUID:  # fmt: skip
    delivery_id = uuid7()
    async with db.transaction() as uow:
        await uow.connection.execute(
            """INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_seq, order_id, status, attempts,
                   next_attempt_at, last_attempt_at, last_status_code, last_response, created_at)
               VALUES (:id, :subscription_id, :event_id, :event_seq, NULL, :status, :attempts, NULL, :at, :code,
                   :response, :at)""",
            {"id": delivery_id, "subscription_id": uuid.UUID(str(subscription_id)), "event_id": event["id"],
             "event_seq": event["seq"], "status": status, "attempts": attempts, "at": START, "code": code,
             "response": response},
        )  # fmt: skip
        await uow.commit()
    return delivery_id


async def an_order_callback(db: Db) -> uuid.UUID:
    """A webhook_subscriptions row with order_id set: an order's callback, which /v1/webhooks never shows."""
    callback_id = uuid7()
    async with db.transaction() as uow:
        await uow.connection.execute(
            """INSERT INTO webhook_subscriptions (id, url, events, description, active, secret, order_id, created_at,
                   updated_at)
               VALUES (:id, 'http://127.0.0.1:9/cb', :events, NULL, :active, 'whsec_c2VjcmV0', :order_id, :at, :at)""",
            {"id": callback_id, "events": json.dumps(["order.processed"]), "active": True, "order_id": uuid7(),
             "at": START},
        )  # fmt: skip
        await uow.commit()
    return callback_id


async def outbox_rows(db: Db, subscription_id: uuid.UUID | str) -> list[dict[str, Any]]:
    async with db.snapshot() as uow:
        rows = await uow.connection.fetch_all(
            "SELECT id, event_type, order_id, payload FROM outbox WHERE subscription_id = :id",
            {"id": uuid.UUID(str(subscription_id))},
        )
    return [{"id": r["id"], "event_type": r["event_type"], "order_id": r["order_id"],
             "payload": json.loads(r["payload"])} for r in rows]  # fmt: skip
