"""Live event streams: an order's events (its owner's or an admin's) or every event (an admin's), resumed from the
outbox after a Last-Event-ID, then followed live as a bell rings or a bounded poll comes round (ADR 0030)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

import structlog

from orderline.application.audit import AuditEntry
from orderline.application.errors import ApplicationError, DatabaseUnavailable, NotFound
from orderline.application.ownership import can_see
from orderline.application.ports import START, Database, OutboxBatch, OutboxFeed, StreamPosition, WakeupSource
from orderline.application.principal import PUBLIC, Principal, Scope

log = structlog.get_logger("orderline.stream")

# A Last-Event-ID is a seq: a positive 64-bit integer ("0": from the first event on).
_SEQ = re.compile(r"[0-9]{1,19}")
MAX_SEQ = 2**63 - 1
BATCH = 100  # events read at a time: what one stream holds in memory, whatever its consumer's speed
# Seconds before reading again while an older transaction holds events back: at first soon (ours last
# milliseconds), then doubling up to the poll, so a long transaction does not make every stream read non-stop.
HELD_BACK_RETRY = 0.05


class InvalidLastEventId(ApplicationError):
    """The Last-Event-ID (or lastEventId) is not an event id this stream served."""

    code = "bad-request"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="Last-Event-ID")


class TooManyStreams(ApplicationError):
    """This process, or this principal, has as many live streams open as it may."""

    code = "too-many-streams"

    def __init__(self, message: str, limit: int, retry_after: int = 5) -> None:
        super().__init__(message, limit=limit)
        self.retry_after = retry_after


class OutboxBell:
    """Rings every listening stream when the outbox may have grown; ``stop`` ends them all (server shutdown).

    A ring sets one flag per listener, never queues: a listener that is busy reads everything new at once.
    """

    def __init__(self) -> None:
        self._listeners: set[asyncio.Event] = set()
        self.stopping = False

    def ring(self) -> None:
        for listener in self._listeners:
            listener.set()

    def stop(self) -> None:
        self.stopping = True
        self.ring()

    @contextlib.contextmanager
    def listening(self) -> Iterator[asyncio.Event]:
        listener = asyncio.Event()
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)


class OutboxCommitted:
    """A commit observer ringing this process's bell after every transaction that recorded something: each
    event is written with its change's audit entry, so a stream here reads it at once (SQLite's wake-up)."""

    def __init__(self, bell: OutboxBell) -> None:
        self._bell = bell

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        self._bell.ring()


class StreamSlots:
    """How many streams are open, in all and per principal; a stream beyond either limit is refused."""

    def __init__(self, limit: int, per_principal: int) -> None:
        self._limit = limit
        self._per_principal = per_principal
        self._open: dict[tuple[str, UUID | None], int] = {}

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def take(self, principal: Principal) -> Callable[[], None]:
        """A slot for ``principal``'s new stream (TooManyStreams past a limit), and the call that gives it back."""
        key = (str(principal.kind), principal.id)
        if self.open >= self._limit:
            raise TooManyStreams(f"this server has {self._limit} live streams open; try again later", self._limit)
        if self._open.get(key, 0) >= self._per_principal:
            raise TooManyStreams(
                f"you have {self._per_principal} live streams open already; close one first", self._per_principal
            )
        self._open[key] = self._open.get(key, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._open[key] -= 1
                if not self._open[key]:
                    del self._open[key]

        return release


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    seq: int
    event_type: str
    payload: str  # the event's JSON, as the outbox holds it and a webhook delivers it


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing happened for a while: a comment keeps proxies from closing the connection as idle."""


StreamItem = StreamedEvent | Heartbeat


@dataclass(frozen=True, slots=True)
class StreamTiming:
    heartbeat: float = 15.0  # seconds of quiet before a heartbeat
    poll: float = 5.0  # seconds before reading the outbox without a wake-up
    max_seconds: float = 3600.0  # a stream's whole life (0: no limit); the client then resumes


class EventStream:
    """Opens live streams. Each reads the outbox in batches, so a slow consumer holds one batch, never a backlog."""

    def __init__(
        self,
        db: Database,
        feed: OutboxFeed,
        bell: OutboxBell,
        slots: StreamSlots,
        timing: StreamTiming,
        sources: Sequence[WakeupSource] = (),
    ) -> None:
        self._db = db
        self._feed = feed
        self._bell = bell
        self._slots = slots
        self._timing = timing
        self._sources = tuple(sources)
        self._started: asyncio.Task[None] | None = None

    async def open(self, principal: Principal, order_id: UUID | None, last_event_id: str | None) -> LiveStream:
        """A stream of ``order_id``'s events (its owner's or an admin's; NotFound for anyone else), or of every
        event (``order_id`` None: an admin's), after ``last_event_id`` if given, else from now on."""
        await self._may_follow(principal, order_id)
        start = await self._start(principal.tenant, order_id, last_event_id)
        await self._start_sources()
        release = self._slots.take(principal)
        return LiveStream(self.follow(order_id, start, release, principal.tenant), release)

    def stop(self) -> None:
        """End every stream now (the server is shutting down): each finishes cleanly, and its client resumes
        elsewhere with Last-Event-ID. New streams end as soon as they start."""
        self._bell.stop()

    async def close(self) -> None:
        """End every stream and stop listening for other processes."""
        self._bell.stop()
        for source in self._sources:
            await source.close()

    async def _may_follow(self, principal: Principal, order_id: UUID | None) -> None:
        if order_id is None:
            principal.require(Scope.SUPPORT)  # every order's events: the shop's staff
            return
        principal.require(Scope.READ_ORDERS)
        async with self._db.snapshot(principal.tenant) as uow:
            order = await uow.orders.get(order_id)
        if order is None or not can_see(principal, order):
            raise NotFound("order", order_id)

    async def _start(self, tenant: UUID, order_id: UUID | None, last_event_id: str | None) -> StreamPosition:
        if last_event_id is None:
            return await self._feed.head(tenant, order_id)
        text = last_event_id.strip()
        if not _SEQ.fullmatch(text) or int(text) > MAX_SEQ:
            raise InvalidLastEventId("Last-Event-ID must be the id of an event this stream sent (digits only)")
        if int(text) == 0:
            return START
        position = await self._feed.position_of(tenant, int(text), order_id)
        if position is None:
            raise InvalidLastEventId(f"no event {text} in this stream; reconnect without Last-Event-ID")
        return position

    async def _start_sources(self) -> None:
        # The first stream starts the listeners; they keep running until the use cases close.
        if self._started is None:
            self._started = asyncio.ensure_future(self._start_all())
        await asyncio.shield(self._started)

    async def _start_all(self) -> None:
        for source in self._sources:
            await source.start()

    async def follow(
        self, order_id: UUID | None, start: StreamPosition, release: Callable[[], None], tenant: UUID = PUBLIC
    ) -> AsyncGenerator[StreamItem]:
        """``tenant``'s events after ``start``, then live ones as they commit, with a heartbeat in each quiet
        spell; ``release`` gives the stream's slot back when it ends (at its time limit, on shutdown, or closed)."""
        clock = StreamClock(asyncio.get_running_loop(), self._timing)
        position = start
        try:
            with self._bell.listening() as woken:
                while not self._bell.stopping and not clock.over():
                    woken.clear()
                    batch = await self._read(tenant, position, order_id)
                    for entry in batch.entries:
                        position = entry.position
                        clock.sent()
                        yield StreamedEvent(entry.position.seq, entry.event_type, entry.payload)
                    if len(batch.entries) == BATCH:
                        continue  # more are waiting: read on before sleeping
                    if clock.heartbeat_due():
                        clock.sent()
                        yield Heartbeat()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(clock.wait(held_back=batch.held_back)):
                            await woken.wait()
        finally:
            release()

    async def _read(self, tenant: UUID, position: StreamPosition, order_id: UUID | None) -> OutboxBatch:
        try:
            return await self._feed.after(tenant, position, order_id, BATCH)
        except DatabaseUnavailable as exc:  # the stream waits it out; the client sees heartbeats meanwhile
            log.warning("live stream could not read the outbox", error=str(exc))
            return OutboxBatch([])


class StreamClock:
    """A stream's timers: when it last sent something, when a heartbeat is due, how long to sleep, when it ends."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timing: StreamTiming) -> None:
        self._loop = loop
        self._timing = timing
        self._last = loop.time()
        self._ends = self._last + timing.max_seconds if timing.max_seconds else None
        self._held_back_wait = HELD_BACK_RETRY

    def sent(self) -> None:
        self._last = self._loop.time()

    def over(self) -> bool:
        return self._ends is not None and self._loop.time() >= self._ends

    def heartbeat_due(self) -> bool:
        return self._loop.time() - self._last >= self._timing.heartbeat

    def wait(self, *, held_back: bool) -> float:
        """Seconds to sleep unless woken: a moment while events are held back (longer each time in a row), else
        until the poll, the next heartbeat or the end, whichever comes first."""
        now = self._loop.time()
        if held_back:
            retry, self._held_back_wait = self._held_back_wait, min(self._held_back_wait * 2, self._timing.poll)
        else:
            retry, self._held_back_wait = self._timing.poll, HELD_BACK_RETRY
        wait = min(retry, self._timing.poll, self._last + self._timing.heartbeat - now)
        if self._ends is not None:
            wait = min(wait, self._ends - now)
        return max(0.0, wait)


class LiveStream:
    """An opened stream: its checks passed, its start is known and it holds a slot until it ends or is closed."""

    def __init__(self, items: AsyncGenerator[StreamItem], release: Callable[[], None]) -> None:
        self._items = items
        self._release = release

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._items

    async def aclose(self) -> None:
        """Stop following and give the slot back (also for a stream never iterated)."""
        await self._items.aclose()
        self._release()
