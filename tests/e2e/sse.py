"""Live-stream test support: the app served over real HTTP by uvicorn in the test's loop, an SSE reader over httpx
streaming, and outbox rows written on a connection of the test's own (as another process would)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from tests.e2e.process import free_port
from tests.support import Db

# A guard against a hang, never an assertion about time: a healthy stream answers within milliseconds.
HANG_GUARD_SECONDS = 15.0


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """``app`` (its lifespan already running) behind a real uvicorn on a free port; yields the base URL."""
    asgi: Any = app
    config = uvicorn.Config(asgi, host="127.0.0.1", port=free_port(), lifespan="off", ws="none", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    event: str
    data: dict[str, Any]


class EventReader:
    """Reads SSE events off an open streaming response; comments and retry-only messages are not events."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self) -> Event:
        fields: dict[str, str] = {}
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            async for line in self._lines:
                if line == "":
                    if "data" in fields:
                        return Event(fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def next_line(self) -> str:
        """One line, whatever it is (a comment is also kept in ``comments``)."""
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            line = await anext(self._lines)
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
        return line

    async def take(self, count: int) -> list[Event]:
        return [await self.next() for _ in range(count)]

    async def ends(self) -> list[str]:
        """Read to the end of the stream (it must end); the event ids read on the way."""
        ids = []
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            async for line in self._lines:
                if line.startswith("id:"):
                    ids.append(line.partition(":")[2].strip())
        return ids


@asynccontextmanager
async def following(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> AsyncIterator[EventReader]:
    """An open live stream (status 200 checked), read with an EventReader."""
    async with http.stream("GET", path, headers=headers, params=params) as response:
        if response.status_code != 200:
            await response.aread()
            raise AssertionError(f"{response.status_code}: {response.text}")
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)


async def write_event(
    db: Db, order_id: str | None, event_type: str = "order.statusChanged", *, notify: bool = False
) -> int:
    """Commit one outbox row on the test's own connection, as another process's writer would; on PostgreSQL with
    ``notify`` also `pg_notify('orderline_outbox', seq)` in the same transaction, as the outbox writer does."""
    event_id = uuid.uuid4()
    payload = {"eventId": str(event_id), "eventType": event_type, "timestamp": "2026-11-30T12:00:00Z",
               "data": {"orderId": order_id}}  # fmt: skip
    async with db.transaction() as uow:
        row = await uow.connection.fetch_one(
            "INSERT INTO outbox (id, event_type, order_id, payload, occurred_at)"
            " VALUES (:id, :event_type, :order_id, :payload, :occurred_at) RETURNING seq",
            {
                "id": event_id,
                "event_type": event_type,
                "order_id": None if order_id is None else uuid.UUID(order_id),
                "payload": json.dumps(payload),
                "occurred_at": datetime.now(UTC),
            },
        )
        assert row is not None
        seq = int(row["seq"])
        if notify and uow.connection.dialect == "postgresql":
            await uow.connection.execute("SELECT pg_notify('orderline_outbox', :seq)", {"seq": str(seq)})
        await uow.commit()
    return seq
