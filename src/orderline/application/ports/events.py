"""The outbox and the event stream read from it (ADR 0027)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from orderline.application.audit import AuditEntry
from orderline.domain.order import Order
from orderline.domain.payment import Payment, Refund


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as the outbox keeps it (ADR 0027): ``payload`` is what subscribers receive,
    ``{eventId, eventType, timestamp, data}``; ``subscription_id`` set: only that subscription's (a ping)."""

    id: UUID
    event_type: str
    order_id: UUID | None
    occurred_at: datetime
    payload: dict[str, Any]
    subscription_id: UUID | None = None


class OutboxRepository(Protocol):
    async def add(self, events: Sequence[EventRecord]) -> None:
        """Append the events inside the caller's transaction: they commit or vanish with the change that caused
        them. On PostgreSQL, also NOTIFY ``orderline_outbox`` with the newest seq (delivered on COMMIT)."""
        ...


class EventRenderer(Protocol):
    """The native API's bodies, as JSON values, for event payloads: an order exactly as ``GET
    /v1/orders/{id}`` answers it, a payment exactly as Pay Order does."""

    def order(self, order: Order) -> dict[str, Any]: ...
    def payment(self, payment: Payment) -> dict[str, Any]: ...


class Sighted(Protocol):
    """What one transaction's repositories loaded or wrote, as it last saw each record (None: never seen)."""

    def order(self, order_id: UUID) -> Order | None: ...
    def payment(self, payment_id: UUID) -> Payment | None: ...
    def refund(self, refund_id: UUID) -> Refund | None: ...


class EventSource(Protocol):
    """Turns what a transaction recorded into its outbox events; the unit of work writes them before COMMIT."""

    def events(self, entries: Sequence[AuditEntry], seen: Sighted) -> list[EventRecord]: ...


@dataclass(frozen=True, slots=True, order=True)
class StreamPosition:
    """Where a live stream stands in the outbox. Streams run in (tx, seq) order: ``tx`` is the writing
    transaction's id on PostgreSQL (0 on SQLite, whose single writer commits in seq order), so an event that
    commits after a later-numbered one still comes after every event a reader has passed (ADR 0030)."""

    tx: int
    seq: int


START = StreamPosition(0, 0)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as a stream serves it: its position, its type, and its payload JSON as stored."""

    position: StreamPosition
    event_type: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Entries after a position; ``held_back``: some later event has committed but is not served yet, because an
    older transaction is still running (read again soon rather than wait for the next wake-up)."""

    entries: list[OutboxEntry]
    held_back: bool = False


class OutboxFeed(Protocol):
    """The read side of the outbox, for live streams: ``tenant``'s events only (ADR 0040). ``order_id`` None:
    every order's events (and the rest)."""

    async def head(self, tenant: UUID, order_id: UUID | None) -> StreamPosition:
        """The position of the newest event a stream may serve now (START when there is none)."""
        ...

    async def position_of(self, tenant: UUID, seq: int, order_id: UUID | None) -> StreamPosition | None:
        """The position of the event numbered ``seq`` (of that order), None if there is none."""
        ...

    async def after(self, tenant: UUID, position: StreamPosition, order_id: UUID | None, limit: int) -> OutboxBatch:
        """Up to ``limit`` events after ``position``, in stream order, that no running transaction can precede."""
        ...


class WakeupSource(Protocol):
    """Something that rings the stream's bell when another process or connection wrote to the outbox (PostgreSQL
    LISTEN, Redis pub/sub). Started by the first stream, closed with the use cases."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
