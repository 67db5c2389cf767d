"""Webhook test support: a real HTTP receiver on 127.0.0.1, and outbox rows and subscriptions written with SQL."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

from orderline.storage.rows import to_json
from tests.support import Db

SECRET = "whsec_" + "c3Vic2NyaXB0aW9uLXNlY3JldC0zMi1ieXRlcy0tLS0="
OTHER_SECRET = "whsec_" + "cHJldmlvdXMtc2VjcmV0LW9mLTMyLWJ5dGVzLS0tLS0="


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


# How the receiver answers one request: a status code, given what it received and how many came before.
Answering = Callable[[Received, int], int]


def always(status: int) -> Answering:
    return lambda _received, _count: status


@dataclass
class Receiver:
    """An HTTP server on a thread of its own that keeps every request and answers as ``answer`` says."""

    answer: Answering = field(default_factory=lambda: always(204))
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.received if request.path == path]

    def events(self, path: str = "/hook") -> list[dict[str, Any]]:
        return [request.event for request in self.on(path)]


@contextmanager
def receiving(answer: Answering | None = None) -> Iterator[Receiver]:
    receiver = Receiver(answer or always(204))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request (kill -9): nothing was delivered
                self.close_connection = True
                return
            request = Received(self.path, dict(self.headers.items()), body)
            with receiver.lock:
                count = sum(1 for seen in receiver.received if seen.path == self.path)
                receiver.received.append(request)
            status = receiver.answer(request, count)
            answer = b"" if status == 204 else b"noted"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


async def a_subscription(
    db: Db,
    url: str,
    events: list[str] | None = None,
    *,
    secret: str = SECRET,
    previous_secret: str | None = None,
    previous_expires_in: timedelta | None = None,
    order_id: UUID | None = None,
    active: bool = True,
) -> UUID:
    subscription_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with db.transaction() as uow:
        await uow.connection.execute(
            "INSERT INTO webhook_subscriptions (id, url, events, description, active, secret, previous_secret,"
            " previous_secret_expires_at, order_id, created_at, updated_at) VALUES (:id, :url, :events, NULL,"
            " :active, :secret, :previous, :expires, :order_id, :now, :now)",
            {
                "id": subscription_id,
                "url": url,
                "events": to_json(events or ["*"]),
                "active": active,
                "secret": secret,
                "previous": previous_secret,
                "expires": now + previous_expires_in if previous_expires_in is not None else None,
                "order_id": order_id,
                "now": now,
            },
        )
        await uow.commit()
    return subscription_id


async def events_written(db: Db, *events: tuple[str, UUID | None], subscription_id: UUID | None = None) -> list[UUID]:
    """Outbox rows as helper A's unit of work writes them, in one transaction: (event type, order id) each."""
    ids = []
    now = datetime.now(UTC)
    async with db.transaction() as uow:
        for event_type, order_id in events:
            event_id = uuid.uuid4()
            payload = {
                "eventId": str(event_id),
                "eventType": event_type,
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "data": {"orderId": str(order_id) if order_id else None, "note": "héllo"},
            }
            await uow.connection.execute(
                "INSERT INTO outbox (id, event_type, order_id, subscription_id, payload, occurred_at)"
                " VALUES (:id, :type, :order_id, :subscription_id, :payload, :now)",
                {
                    "id": event_id,
                    "type": event_type,
                    "order_id": order_id,
                    "subscription_id": subscription_id,
                    "payload": to_json(payload),
                    "now": now,
                },
            )
            ids.append(event_id)
        await uow.commit()
    return ids


async def deliveries_of(db: Db, subscription_id: UUID) -> list[dict[str, Any]]:
    async with db.snapshot() as uow:
        rows = await uow.connection.fetch_all(
            "SELECT event_id, status, attempts, last_status_code, last_response FROM webhook_deliveries"
            " WHERE subscription_id = :id ORDER BY event_seq",
            {"id": subscription_id},
        )
    return [
        {
            "event_id": UUID(str(row["event_id"])),
            "status": row["status"],
            "attempts": row["attempts"],
            "last_status_code": row["last_status_code"],
            "last_response": row["last_response"],
        }
        for row in rows
    ]


async def subscription_state(db: Db, subscription_id: UUID) -> tuple[bool, str | None]:
    async with db.snapshot() as uow:
        row = await uow.connection.fetch_one(
            "SELECT active, disabled_reason FROM webhook_subscriptions WHERE id = :id", {"id": subscription_id}
        )
    assert row is not None
    return bool(row["active"]), row["disabled_reason"]
