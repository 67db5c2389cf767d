"""Redis pub/sub for live streams, when ORDERLINE_REDIS_URL is set: every process publishes after each commit
that recorded something, and every process with streams subscribes and rings its bell (ADR 0030).

The publisher is a commit observer: after COMMIT it schedules one PUBLISH (a burst of commits shares one) and
returns at once, so a slow or dead Redis never slows a request. The message says only "look again": streams
read the outbox themselves, so a message lost to a Redis outage only delays an event until the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from orderline.application.audit import AuditEntry
from orderline.storage.notifications import reconnect_wait

log = structlog.get_logger("orderline.stream")

PUBLISH_TIMEOUT = 1.0


def channel_of(prefix: str) -> str:
    return f"{prefix}outbox"


class RedisOutboxPublisher:
    """A commit observer: publishes a wake-up on the channel after each commit that recorded something."""

    def __init__(self, url: str, channel: str) -> None:
        self._redis = Redis.from_url(url, socket_connect_timeout=PUBLISH_TIMEOUT, socket_timeout=PUBLISH_TIMEOUT)
        self._channel = channel
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        if self._task is not None and not self._task.done():
            self._again = True  # the publish under way will publish once more when it is done
            return
        self._task = asyncio.get_running_loop().create_task(self._publish(), name="outbox-publish")

    async def _publish(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                async with asyncio.timeout(PUBLISH_TIMEOUT):
                    await self._redis.publish(self._channel, "1")
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("could not publish an outbox wake-up to Redis; streams poll", error=str(exc))
                return

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, PUBLISH_TIMEOUT)
        await self._redis.aclose()


class RedisOutboxSubscriber:
    """Rings ``ring`` on every message on the channel; resubscribes with backoff when Redis goes away."""

    def __init__(self, url: str, channel: str, ring: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._ring = ring
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-subscriber")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PUBLISH_TIMEOUT * 3):
                await self._subscribed.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            redis = Redis.from_url(self._url, socket_connect_timeout=PUBLISH_TIMEOUT, health_check_interval=15)
            try:
                async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    if failures:
                        log.info("subscribed to outbox wake-ups again")
                        self._ring()  # what was published while no one listened
                    failures = 0
                    self._subscribed.set()
                    while True:
                        if await pubsub.get_message(timeout=10.0) is not None:
                            self._ring()
            except (RedisError, OSError) as exc:
                self._subscribed.set()  # the first stream need not wait: it polls meanwhile
                failures += 1
                log.warning("lost the Redis subscription for outbox wake-ups; streams poll meanwhile", error=str(exc))
            finally:
                with contextlib.suppress(Exception):
                    await redis.aclose()
            await asyncio.sleep(reconnect_wait(failures))
