"""Webhook subscriptions (use case): create, list, read, change, delete, rotate the secret; their deliveries,
replays and test pings. Order callbacks share the table but are never reached from here."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.errors import InvalidWebhook, NotFound, WebhookInactive
from orderline.application.events import EventType, envelope, rfc3339
from orderline.application.pagination import Page, decode_id_cursor, page_of
from orderline.application.ports import (
    Clock,
    Database,
    DeliveryQuery,
    DeliveryStatus,
    Destinations,
    IdGenerator,
    UnitOfWork,
    WebhookDelivery,
    WebhookSubscription,
)
from orderline.application.principal import Principal, Scope
from orderline.application.use_case import UseCase

# The event types a subscription may name (docs/webhooks.md, "Events"), and the families a pattern such as
# "order.*" names. `ping` is not among them: it goes to the one subscription whose test asked for it.
EVENT_TYPES = tuple(str(event_type) for event_type in EventType if event_type is not EventType.PING)
FAMILIES = ("order", "payment", "refund")
EVERYTHING = "*"
PATTERNS = (EVERYTHING, *(f"{family}.*" for family in FAMILIES), *EVENT_TYPES)
PING = str(EventType.PING)
MAX_PATTERNS = 20

# An http(s) URL with a host name or an IPv4 address (no user info, no IPv6 literal), an optional port 1 to
# 65535, then any printable ASCII. The OpenAPI document states the same pattern; only ECMA-262 and Python
# read it alike ([0-9], never \d). The host is checked against Destinations besides.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
URL_PATTERN = rf"^https?://{_LABEL}(?:\.{_LABEL})*{_PORT}(?:[/?#][!-~]*)?$"
MAX_URL = 2000
_URL = re.compile(URL_PATTERN)

# Standard Webhooks: a secret is whsec_ and the base64 of 24 to 64 random bytes; we draw 32.
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
# A replay since a moment makes at most this many deliveries at once; the answer says where to continue.
MAX_REPLAY = 1000
_CURSOR = "webhooks"
_DELIVERY_CURSOR = "deliveries"


class Keep(Enum):
    """A field a change leaves as it is (JSON merge patch: absent), as opposed to None (null: cleared)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class WebhookDraft:
    url: str
    events: Sequence[str]
    description: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What a PATCH sets; anything left KEEP stays as it is."""

    url: str | Keep = KEEP
    events: Sequence[str] | Keep = KEEP
    description: str | Keep | None = KEEP
    active: bool | Keep = KEEP


@dataclass(frozen=True, slots=True)
class Replay:
    """What a replay since a moment did: how many deliveries it made, and where to continue when it stopped at
    MAX_REPLAY (None when it reached the newest event)."""

    deliveries: int
    next_since: datetime | None


def check_url(url: str) -> str:
    """The URL, if it is one webhooks may be configured with (its host is checked by Destinations besides)."""
    if len(url) > MAX_URL or not _URL.fullmatch(url):
        raise InvalidWebhook(
            "url",
            f"{url[:100]!r} is not an http or https URL with a host name or IPv4 address (at most {MAX_URL} "
            "characters, no user name or password, printable ASCII)",
            url=url[:MAX_URL],
        )
    return url


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns, each once, in the order given; every one must name a known event type or family."""
    found = tuple(dict.fromkeys(patterns))
    if not found:
        raise InvalidWebhook("events", "subscribe to at least one event type, family (such as order.*) or *")
    if len(found) > MAX_PATTERNS:
        raise InvalidWebhook("events", f"at most {MAX_PATTERNS} patterns")
    unknown = [pattern for pattern in found if pattern not in PATTERNS]
    if unknown:
        raise InvalidWebhook(
            "events",
            f"{unknown[0][:80]!r} names no event type or family; use one of: {', '.join(PATTERNS)}",
            pattern=unknown[0][:80],
        )
    return found


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether a subscription with these patterns receives events of this type (a ping goes by id, not here)."""
    family = event_type.split(".", 1)[0]
    return any(p in (EVERYTHING, event_type, f"{family}.*") for p in patterns) and event_type != PING


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _described(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log records of a subscription: never its secrets."""
    return {
        "url": subscription.url,
        "events": list(subscription.events),
        "description": subscription.description,
        "active": subscription.active,
        "disabledReason": subscription.disabled_reason,
    }


class Webhooks(UseCase):
    """Needs ``write:webhooks`` (or ``admin``) throughout."""

    def __init__(
        self, db: Database, clock: Clock, ids: IdGenerator, destinations: Destinations, *, secret_grace: timedelta
    ) -> None:
        super().__init__(db, clock, ids)
        self._destinations = destinations
        self._grace = secret_grace

    async def create(self, principal: Principal, draft: WebhookDraft) -> WebhookSubscription:
        """The new subscription, with its secret: the only answer that shows it."""
        principal.require(Scope.WRITE_WEBHOOKS)
        url, events = check_url(draft.url), check_patterns(draft.events)
        await self._destinations.check(url)  # before the transaction: a slow resolver holds no lock
        now = self._clock.now()
        subscription = WebhookSubscription(
            self._ids.new_id(), url, events, draft.description, draft.active, new_secret(), now, now
        )
        async with self._db.transaction(principal.tenant) as uow:
            await uow.webhooks.add(subscription)
            created = changes({}, _described(subscription))
            await self._record(
                uow, principal, Record(Action.WEBHOOK_CREATED, EntityType.WEBHOOK, subscription.id, created)
            )
            await uow.commit()
        return subscription

    async def list(self, principal: Principal, *, limit: int, cursor: str | None = None) -> Page[WebhookSubscription]:
        principal.require(Scope.WRITE_WEBHOOKS)
        after = decode_id_cursor(_CURSOR, cursor) if cursor else None
        async with self._db.snapshot(principal.tenant) as uow:
            rows = await uow.webhooks.find(limit, after)
        now = self._clock.now()
        return page_of([self._shown(row, now) for row in rows], limit, _CURSOR, lambda row: str(row.id))

    async def get(self, principal: Principal, subscription_id: UUID) -> WebhookSubscription:
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.snapshot(principal.tenant) as uow:
            subscription = await self._load(uow, subscription_id)
        return self._shown(subscription, self._clock.now())

    async def update(self, principal: Principal, subscription_id: UUID, change: WebhookChange) -> WebhookSubscription:
        principal.require(Scope.WRITE_WEBHOOKS)
        url = KEEP if isinstance(change.url, Keep) else check_url(change.url)
        events = KEEP if isinstance(change.events, Keep) else check_patterns(change.events)
        if not isinstance(url, Keep):
            await self._destinations.check(url)
        async with self._db.transaction(principal.tenant) as uow:
            before = await self._load(uow, subscription_id, for_update=True)
            after = replace(
                before,
                url=before.url if isinstance(url, Keep) else url,
                events=before.events if isinstance(events, Keep) else events,
                description=before.description if isinstance(change.description, Keep) else change.description,
                active=before.active if isinstance(change.active, Keep) else change.active,
            )
            if change.active is True:
                after.disabled_reason = None  # turned on again by hand, whatever turned it off
            changed = changes(_described(before), _described(after))
            if changed:
                after.updated_at = self._clock.now()
                await uow.webhooks.save(after)
                record = Record(Action.WEBHOOK_UPDATED, EntityType.WEBHOOK, subscription_id, changed)
                await self._record(uow, principal, record)
                await uow.commit()
        return self._shown(after, self._clock.now())

    async def delete(self, principal: Principal, subscription_id: UUID) -> None:
        """The subscription goes, with its deliveries: nothing more is sent to it."""
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.transaction(principal.tenant) as uow:
            subscription = await self._load(uow, subscription_id, for_update=True)
            await uow.webhooks.remove(subscription.id)
            removed = changes(_described(subscription), {})
            await self._record(
                uow, principal, Record(Action.WEBHOOK_DELETED, EntityType.WEBHOOK, subscription.id, removed)
            )
            await uow.commit()

    async def rotate_secret(self, principal: Principal, subscription_id: UUID) -> WebhookSubscription:
        """A new secret, shown this once. The one it replaces still signs, beside it, for the grace period."""
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.transaction(principal.tenant) as uow:
            subscription = await self._load(uow, subscription_id, for_update=True)
            now = self._clock.now()
            rotated = replace(
                subscription,
                secret=new_secret(),
                previous_secret=subscription.secret,
                previous_secret_expires_at=now + self._grace,
                updated_at=now,
            )
            await uow.webhooks.save(rotated)
            until = {"previousSecretExpiresAt": rfc3339(now + self._grace)}
            record = Record(Action.WEBHOOK_SECRET_ROTATED, EntityType.WEBHOOK, subscription.id, until)
            await self._record(uow, principal, record)
            await uow.commit()
        return rotated

    async def deliveries(
        self,
        principal: Principal,
        subscription_id: UUID,
        *,
        status: DeliveryStatus | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]:
        """The subscription's deliveries, newest first."""
        principal.require(Scope.WRITE_WEBHOOKS)
        before = decode_id_cursor(_DELIVERY_CURSOR, cursor) if cursor else None
        async with self._db.snapshot(principal.tenant) as uow:
            await self._load(uow, subscription_id)
            rows = await uow.webhooks.deliveries(DeliveryQuery(subscription_id, limit, status, before))
        return page_of(rows, limit, _DELIVERY_CURSOR, lambda row: str(row.id))

    async def replay_delivery(self, principal: Principal, subscription_id: UUID, delivery_id: UUID) -> WebhookDelivery:
        """Send a delivery again, whatever its status: PENDING, due now, with a whole new round of attempts."""
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.transaction(principal.tenant) as uow:
            self._ensure_active(await self._load(uow, subscription_id, for_update=True))
            delivery = await uow.webhooks.get_delivery(subscription_id, delivery_id)
            if delivery is None:
                raise NotFound("delivery", delivery_id)
            await uow.webhooks.requeue(delivery.id, now := self._clock.now())
            await uow.commit()
        return replace(delivery, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, delivered_at=None)

    async def replay_since(self, principal: Principal, subscription_id: UUID, since: datetime) -> Replay:
        """New deliveries, due now, of the events since ``since`` that the subscription receives, oldest first,
        at most MAX_REPLAY of them. They carry the events' ids, so a receiver that has one already can tell."""
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.transaction(principal.tenant) as uow:
            subscription = self._ensure_active(await self._load(uow, subscription_id, for_update=True))
            events = await uow.webhooks.events_since(subscription.id, subscription.events, since, MAX_REPLAY + 1)
            replayed = events[:MAX_REPLAY]
            now = self._clock.now()
            await uow.webhooks.add_deliveries(subscription.id, [(self._ids.new_id(), e) for e in replayed], now)
            await uow.commit()
        rest = events[MAX_REPLAY:]
        return Replay(len(replayed), rest[0].occurred_at if rest else None)

    async def ping(self, principal: Principal, subscription_id: UUID) -> UUID:
        """Write a `ping` event for this subscription alone; its id is the delivery's webhook-id."""
        principal.require(Scope.WRITE_WEBHOOKS)
        async with self._db.transaction(principal.tenant) as uow:
            subscription = self._ensure_active(await self._load(uow, subscription_id, for_update=True))
            event_id = self._ids.new_id()
            data = {"webhookId": str(subscription.id)}
            await uow.outbox.add(
                [envelope(event_id, EventType.PING, self._clock.now(), data, subscription_id=subscription.id)]
            )
            await uow.commit()
        return event_id

    @staticmethod
    async def _load(uow: UnitOfWork, subscription_id: UUID, *, for_update: bool = False) -> WebhookSubscription:
        subscription = await uow.webhooks.get(subscription_id, for_update=for_update)
        if subscription is None:
            raise NotFound("webhook", subscription_id)
        return subscription

    @staticmethod
    def _ensure_active(subscription: WebhookSubscription) -> WebhookSubscription:
        if not subscription.active:
            raise WebhookInactive(subscription.id)
        return subscription

    @staticmethod
    def _shown(subscription: WebhookSubscription, now: datetime) -> WebhookSubscription:
        """As callers see it: a previous secret whose grace has passed signs nothing, so it is not there."""
        expires = subscription.previous_secret_expires_at
        if expires is None or expires > now:
            return subscription
        return replace(subscription, previous_secret=None, previous_secret_expires_at=None)
