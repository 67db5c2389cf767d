"""Webhooks: subscriptions, deliveries and what the relay and sender ask of storage (ADR 0029)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Protocol
from uuid import UUID

from orderline.application.ports.basics import IdGenerator
from orderline.application.principal import PUBLIC


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # due at next_attempt_at
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    DEAD = "DEAD"  # every attempt failed; only a replay sends it again


@dataclass(slots=True)
class WebhookSubscription:
    """A webhook subscription (``order_id`` None) or an order's callback (``order_id`` set)."""

    id: UUID
    url: str
    events: tuple[str, ...]  # patterns: an event type, a family ("order.*") or "*"
    description: str | None
    active: bool
    secret: str  # whsec_<base64>, kept as it is: it signs
    created_at: datetime
    updated_at: datetime
    previous_secret: str | None = None  # still signs, beside the secret, until previous_secret_expires_at
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None  # why the service turned it off (a 410), None when it did not
    order_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event's delivery to one subscription, as its sender left it."""

    id: UUID
    subscription_id: UUID
    event_id: UUID
    event_seq: int
    event_type: str | None  # None once the event has left the outbox
    order_id: UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxEventRef:
    """Where an event stands in the outbox: what a new delivery of it needs."""

    id: UUID
    seq: int
    order_id: UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    subscription_id: UUID
    limit: int
    status: DeliveryStatus | None = None
    before_id: UUID | None = None  # newest first: continue below this id


class WebhookRepository(Protocol):
    """Webhook subscriptions, their deliveries, and the outbox as far as they read or write it. Order callbacks
    (``order_id`` set) are never returned by ``get`` or ``find``."""

    async def add(self, subscription: WebhookSubscription) -> None: ...
    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> WebhookSubscription | None: ...
    async def save(self, subscription: WebhookSubscription) -> None: ...
    async def remove(self, subscription_id: UUID) -> bool:
        """Delete the subscription and its deliveries; False if there was none."""
        ...

    async def find(self, limit: int, after_id: UUID | None) -> list[WebhookSubscription]:
        """Up to ``limit + 1`` subscriptions in id order (oldest first), after ``after_id``."""
        ...

    async def deliveries(self, query: DeliveryQuery) -> list[WebhookDelivery]:
        """Up to ``query.limit + 1`` of the subscription's deliveries, newest first."""
        ...

    async def get_delivery(self, subscription_id: UUID, delivery_id: UUID) -> WebhookDelivery | None: ...
    async def requeue(self, delivery_id: UUID, now: datetime) -> None:
        """PENDING, due ``now``, with its attempts reset to 0."""
        ...

    async def events_since(
        self, subscription_id: UUID, patterns: Sequence[str], since: datetime, limit: int
    ) -> list[OutboxEventRef]:
        """Up to ``limit`` outbox events that occurred at or after ``since`` and that the subscription receives
        (its patterns match, or the event was for it alone), oldest first."""
        ...

    async def add_deliveries(
        self, subscription_id: UUID, events: Sequence[tuple[UUID, OutboxEventRef]], now: datetime
    ) -> None:
        """A PENDING delivery, due ``now``, under each given id, of each event."""
        ...


class Destinations(Protocol):
    """Where webhooks may be sent: the check against server-side request forgery."""

    async def check(self, url: str) -> None:
        """Raise UnsafeDestination unless every address ``url``'s host resolves to is public."""
        ...

    async def safe_addresses(self, url: str) -> list[IPv4Address | IPv6Address]:
        """Every address ``url``'s host resolves to, after the same check: what a sender may connect to."""
        ...


# Webhook delivery (ADR 0029): what the worker's relay and sender ask of storage.


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An outbox row the relay has claimed: enough to choose the subscriptions it goes to."""

    seq: int
    id: UUID
    event_type: str
    order_id: UUID | None
    subscription_id: UUID | None  # set: only this subscription's (a ping)
    tenant: UUID = PUBLIC  # only this tenant's subscriptions receive it (ADR 0040)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active subscription, as the relay matches events against it."""

    id: UUID
    events: tuple[str, ...]  # patterns: "order.created", "order.*", "*"
    order_id: UUID | None  # set: an order callback, only that order's events
    tenant: UUID = PUBLIC  # it receives this tenant's events only (ADR 0040)


class EventRoute(Protocol):
    def __call__(self, event: OutboxEvent, subscribers: Sequence[Subscriber]) -> Sequence[UUID]:
        """The ids of the subscribers ``event`` is delivered to."""
        ...


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery a sender has leased until ``lease``: what to send, where, and signed with which secrets."""

    id: UUID
    subscription_id: UUID
    url: str
    secret: str
    previous_secret: str | None  # signs too while previous_secret_expires_at is in the future
    previous_secret_expires_at: datetime | None
    event_id: UUID  # the webhook-id, the same on every attempt
    event_seq: int
    order_id: UUID | None
    body: bytes  # the outbox payload as JSON, the same bytes on every attempt
    attempts: int  # attempts made before this one
    lease: datetime  # locked_until as this sender set it: its claim on the outcome
    tenant: UUID = PUBLIC  # the delivery's (ADR 0040): the sandbox's faults are per tenant (ADR 0041)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """What one attempt came to, as the delivery keeps it."""

    at: datetime
    status_code: int | None  # None: no answer (refused, timed out, destination refused)
    response: str  # the first bytes of the answer, or the error that stood for it


@dataclass(frozen=True, slots=True)
class Settlement:
    """One attempt to record: the delivery becomes ``status`` (PENDING: again at ``retry_at``); with
    ``disable`` set, its subscription is disabled for that reason (a 410)."""

    delivery: DueDelivery
    attempt: AttemptRecord
    status: str  # DELIVERED, PENDING, DEAD
    retry_at: datetime | None = None
    disable: str | None = None


class DeliveryQueue(Protocol):
    """The outbox and the webhook deliveries, as the worker moves events from one to the other.

    Every method is one transaction. On PostgreSQL claims skip rows another worker holds (SKIP LOCKED),
    so any number of workers share the work; on SQLite the single writer serialises them.
    """

    async def relay(self, limit: int, now: datetime, ids: IdGenerator, route: EventRoute) -> int:
        """Claim up to ``limit`` undispatched outbox rows, oldest first, make one PENDING delivery per
        subscriber ``route`` picks among the active ones, and mark them dispatched; how many rows it took."""
        ...

    async def claim(self, now: datetime, lease: datetime, limit: int, per_subscription: int) -> list[DueDelivery]:
        """Lease up to ``limit`` PENDING deliveries due by ``now`` until ``lease``: active subscriptions only,
        at most ``per_subscription`` leased per subscription at once, and never one behind an earlier event of
        the same order for the same subscription that is still pending or not yet dispatched."""
        ...

    async def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record attempts, all in one transaction; for each, False if its sender's lease was lost meanwhile
        (another sender has the delivery now, and records it)."""
        ...
