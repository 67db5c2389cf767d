"""The worker: the outbox relay, the webhook sender and background recovery, run together until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import structlog

from orderline.application.deliveries import Deliveries, Outcome
from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import DueDelivery
from orderline.application.recovery import Recovery
from orderline.events.sender import Answer, Sender

log = structlog.get_logger("orderline.worker")


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    poll: float = 0.5  # seconds between looks at the outbox and the deliveries when there was nothing to do
    batch: int = 100  # outbox rows relayed per transaction
    concurrency: int = 32  # deliveries being sent at once, in all
    per_subscription: int = 4  # deliveries leased at once per subscription, across every worker
    lease: timedelta = timedelta(seconds=60)  # how long a claimed delivery is this worker's to send
    recovery_every: float = 1.0  # seconds between recovery rounds (payments, refunds); 0: none


class Rounds:
    """Runs one kind of round forever; a database outage is two log lines (it began, it ended), not one a round."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._unavailable = False

    async def run(self, round_: Callable[[], Awaitable[object]]) -> object:
        try:
            result = await round_()
        except DatabaseUnavailable as exc:
            if not self._unavailable:
                log.warning(f"{self._name} waits: the database is unavailable", error=str(exc))
            self._unavailable = True
            return None
        except Exception:
            log.exception(f"{self._name} round failed; trying again next round")
            return None
        if self._unavailable:
            log.info(f"{self._name} goes on: the database answers again")
        self._unavailable = False
        return result


class Worker:
    """Relays the outbox, sends due deliveries (bounded in number, each bounded in time), and runs recovery.

    ``run`` returns once ``stop`` is set and the deliveries in flight have finished (each is bounded by the
    sender's deadline); a worker killed instead loses only its leases, and those deliveries are sent again,
    with the same webhook-id, once the leases expire.
    """

    def __init__(self, deliveries: Deliveries, sender: Sender, recovery: Recovery, options: WorkerOptions) -> None:
        self._deliveries = deliveries
        self._sender = sender
        self._recovery = recovery
        self._options = options
        self._relayed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        loops = [self._relay(stop), self._send(stop)]
        if self._options.recovery_every > 0:
            loops.append(self._recover(stop))
        log.info("worker started", concurrency=self._options.concurrency)
        await asyncio.gather(*loops)
        log.info("worker stopped")

    async def _relay(self, stop: asyncio.Event) -> None:
        rounds = Rounds("relay")
        while not stop.is_set():
            relayed = await rounds.run(lambda: self._deliveries.relay(self._options.batch))
            if isinstance(relayed, int) and relayed > 0:
                self._relayed.set()
                if relayed == self._options.batch:
                    continue  # more are waiting
            await _sleep_unless(stop, self._options.poll)

    async def _recover(self, stop: asyncio.Event) -> None:
        recovering = asyncio.create_task(self._recovery.run(self._options.recovery_every), name="recovery")
        await stop.wait()
        recovering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recovering

    async def _send(self, stop: asyncio.Event) -> None:
        rounds = Rounds("sender")
        in_flight: set[asyncio.Task[None]] = set()
        answers: asyncio.Queue[Answered] = asyncio.Queue()
        recorder = asyncio.create_task(self._record(answers), name="recorder")
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                free = self._options.concurrency - len(in_flight)
                claimed: list[DueDelivery] = []
                if free > 0:
                    self._relayed.clear()
                    found = await rounds.run(partial(self._claim, free))
                    claimed = found if isinstance(found, list) else []
                    for delivery in claimed:
                        task = asyncio.create_task(self._deliver(delivery, answers), name=f"delivery {delivery.id}")
                        in_flight.add(task)
                if claimed and len(claimed) == free:
                    continue
                # Wait for something that may make more work due: a send recorded (the next event of its order
                # may go), the relay making deliveries, a stop, or the poll interval.
                relayed = asyncio.ensure_future(self._relayed.wait())
                await asyncio.wait(
                    {stopping, relayed, *in_flight}, timeout=self._options.poll, return_when=asyncio.FIRST_COMPLETED
                )
                relayed.cancel()
                in_flight = {task for task in in_flight if not task.done()}
        finally:
            stopping.cancel()
            if in_flight:
                log.info("worker stopping: finishing deliveries in flight", in_flight=len(in_flight))
                await asyncio.wait(in_flight)
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder

    async def _claim(self, limit: int) -> list[DueDelivery]:
        return await self._deliveries.claim(
            limit, lease=self._options.lease, per_subscription=self._options.per_subscription
        )

    async def _deliver(self, delivery: DueDelivery, answers: asyncio.Queue[Answered]) -> None:
        """Send one delivery, and wait until its outcome is recorded (with others', in one transaction)."""
        try:
            answer = await self._sender.send(
                delivery, self._deliveries.signing_secrets(delivery), self._deliveries.now()
            )
        except Exception as exc:  # a bug, or a secret that cannot sign: recorded as a failed attempt, not lost
            log.exception("delivery could not be sent", delivery=str(delivery.id))
            answer = Answer(None, f"could not send: {type(exc).__name__}")
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await answers.put(Answered(delivery, answer, recorded))
        with contextlib.suppress(Exception):  # the recorder logged it
            await recorded

    async def _record(self, answers: asyncio.Queue[Answered]) -> None:
        """Record the answers as they come, all those waiting at once in one transaction."""
        while True:
            batch = [await answers.get()]
            while not answers.empty():
                batch.append(answers.get_nowait())
            try:
                outcomes = await self._deliveries.settle(
                    [(item.delivery, item.answer.status_code, item.answer.excerpt) for item in batch]
                )
            except Exception as exc:
                # Sent but not recorded: each lease runs out and the delivery is sent again, with the same
                # webhook-id; the receiver drops the repeat.
                if isinstance(exc, DatabaseUnavailable):
                    log.warning(
                        "deliveries not recorded: the database is unavailable", count=len(batch), error=str(exc)
                    )
                else:
                    log.exception("deliveries not recorded", count=len(batch))
                for item in batch:
                    item.recorded.set_exception(exc)
                continue
            for item, outcome in zip(batch, outcomes, strict=True):
                _log_attempt(item, outcome)
                item.recorded.set_result(None)


@dataclass(frozen=True, slots=True)
class Answered:
    delivery: DueDelivery
    answer: Answer
    recorded: asyncio.Future[None]


def _log_attempt(item: Answered, outcome: Outcome) -> None:
    delivery = item.delivery
    (log.debug if outcome.status == "DELIVERED" else log.info)(
        "webhook attempt",
        delivery=str(delivery.id),
        event_id=str(delivery.event_id),
        subscription=str(delivery.subscription_id),
        attempt=delivery.attempts + 1,
        status_code=item.answer.status_code,
        response=item.answer.excerpt if outcome.status != "DELIVERED" else None,
        outcome=outcome.status,
        retry_at=outcome.retry_at.isoformat() if outcome.retry_at else None,
        recorded=outcome.recorded,
    )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
