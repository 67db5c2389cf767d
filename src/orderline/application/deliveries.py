"""Deliveries: which subscriptions an event goes to, and what each attempt to deliver it leads to (ADR 0029)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from orderline.application.ports import (
    AttemptRecord,
    Clock,
    DeliveryQueue,
    DueDelivery,
    IdGenerator,
    OutboxEvent,
    Settlement,
    Subscriber,
)

GONE = 410
GONE_REASON = "the receiver answered 410 Gone"


def matches(pattern: str, event_type: str) -> bool:
    """``*`` matches every event, ``order.*`` every event whose type starts with ``order.``, else exactly."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def route(event: OutboxEvent, subscribers: Sequence[Subscriber]) -> list[UUID]:
    """The subscribers an event goes to: the one it names (a ping), else every one whose patterns match it,
    an order callback only for its own order's events."""
    if event.subscription_id is not None:
        return [s.id for s in subscribers if s.id == event.subscription_id]
    return [
        s.id
        for s in subscribers
        if (s.order_id is None or s.order_id == event.order_id) and any(matches(p, event.event_type) for p in s.events)
    ]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: retry n waits a random time in [0, min(cap, base * 2^(n-1))].

    The defaults spread 8 attempts over about a day: the 7 waits' ceilings add up to 127 * base = 2 days,
    and full jitter halves that on average.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=1360)
    cap: timedelta = timedelta(days=1)

    def ceiling(self, attempt: int) -> timedelta:
        """The longest wait after attempt number ``attempt`` (1 for the first) failed."""
        growth: int = 2 ** min(attempt - 1, 40)
        return min(self.cap, self.base * growth)

    def wait(self, attempt: int, jitter: random.Random) -> timedelta:
        return self.ceiling(attempt) * jitter.random()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt: DELIVERED, PENDING (retried at ``retry_at``), DEAD, or GONE (disabled)."""

    status: str
    retry_at: datetime | None = None
    recorded: bool = True  # False: the lease was lost meanwhile, and another sender records the delivery


class Deliveries:
    """Moves events from the outbox to deliveries, and records what each attempt to send one came to."""

    def __init__(
        self,
        queue: DeliveryQueue,
        clock: Clock,
        ids: IdGenerator,
        policy: RetryPolicy | None = None,
        jitter: random.Random | None = None,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._ids = ids
        self._policy = policy or RetryPolicy()
        self._jitter = jitter or random.SystemRandom()

    async def relay(self, limit: int) -> int:
        """Fan out up to ``limit`` undispatched events; how many were relayed."""
        return await self._queue.relay(limit, self._clock.now(), self._ids, route)

    async def claim(self, limit: int, *, lease: timedelta, per_subscription: int) -> list[DueDelivery]:
        now = self._clock.now()
        return await self._queue.claim(now, now + lease, limit, per_subscription)

    def now(self) -> datetime:
        return self._clock.now()

    async def settle(self, answers: Sequence[tuple[DueDelivery, int | None, str]]) -> list[Outcome]:
        """Record attempts, each (delivery, status code or None, response excerpt), in one transaction:
        2xx delivered; 410 gone (dead, and the subscription disabled); otherwise a retry after a jittered
        backoff, or dead once the attempts reach the policy's maximum."""
        now = self._clock.now()
        settlements = [
            self._decide(delivery, AttemptRecord(now, code, response)) for delivery, code, response in answers
        ]
        recorded = await self._queue.settle(settlements)
        return [
            Outcome("GONE" if s.disable else s.status, s.retry_at, kept)
            for s, kept in zip(settlements, recorded, strict=True)
        ]

    def _decide(self, delivery: DueDelivery, attempt: AttemptRecord) -> Settlement:
        code = attempt.status_code
        if code is not None and 200 <= code < 300:
            return Settlement(delivery, attempt, "DELIVERED")
        if code == GONE:
            return Settlement(delivery, attempt, "DEAD", disable=GONE_REASON)
        made = delivery.attempts + 1
        if made >= self._policy.max_attempts:
            return Settlement(delivery, attempt, "DEAD")
        return Settlement(delivery, attempt, "PENDING", attempt.at + self._policy.wait(made, self._jitter))

    def signing_secrets(self, delivery: DueDelivery) -> list[str]:
        """The secrets a delivery is signed with: the current one, and the previous one until it expires."""
        secrets = [delivery.secret]
        expires = delivery.previous_secret_expires_at
        if delivery.previous_secret and (expires is None or expires > self._clock.now()):
            secrets.append(delivery.previous_secret)
        return secrets
