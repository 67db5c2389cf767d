"""The unit of work: the repositories of one transaction on one connection, and its commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import structlog

from orderline.application.audit import AuditEntry
from orderline.application.ports import CommitObserver
from orderline.storage.access import SqlOrderTokenRepository
from orderline.storage.api_keys import SqlApiKeyRepository
from orderline.storage.audit import SqlAuditRepository
from orderline.storage.driver import Connection
from orderline.storage.idempotency import SqlIdempotencyRepository
from orderline.storage.orders import SqlOrderRepository
from orderline.storage.payments import SqlPaymentRepository
from orderline.storage.pets import SqlPetRepository
from orderline.storage.users import SqlUserRepository
from orderline.storage.vouchers import SqlVoucherRepository
from orderline.storage.webhooks import SqlWebhookRepository

log = structlog.get_logger("orderline.storage")

Commit = Callable[[], Awaitable[None]]


class SqlUnitOfWork:
    def __init__(self, connection: Connection, commit: Commit, observers: Sequence[CommitObserver] = ()) -> None:
        self.connection = connection
        self.orders = SqlOrderRepository(connection)
        self.pets = SqlPetRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.users = SqlUserRepository(connection)
        self.order_tokens = SqlOrderTokenRepository(connection)
        self.audit = SqlAuditRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.vouchers = SqlVoucherRepository(connection)
        self.payments = SqlPaymentRepository(connection)
        self.webhooks = SqlWebhookRepository(connection)
        self._commit = commit
        self._observers = observers

    @property
    def recorded(self) -> Sequence[AuditEntry]:
        """The audit entries this transaction appended, in order: what it commits, or what vanishes with it."""
        return self.audit.appended

    async def commit(self) -> None:
        """COMMIT, then tell the observers what was recorded.

        Anything that must not be lost to a crash between the two (the outbox, when it comes) is written
        here, before COMMIT, from ``recorded``: observers only learn of what is already durable.
        """
        await self._commit()
        if self.recorded:
            notify(self._observers, tuple(self.recorded))


def notify(observers: Sequence[CommitObserver], entries: Sequence[AuditEntry]) -> None:
    """Hand committed entries to each observer. One that fails is logged and skipped: the work is done."""
    for observer in observers:
        try:
            observer.committed(entries)
        except Exception:
            log.exception("commit observer failed; the transaction stands", observer=type(observer).__name__)


@asynccontextmanager
async def scope(
    begin: Callable[[], Awaitable[object]],
    commit: Callable[[], Awaitable[object]],
    rollback: Callable[[], Awaitable[object]],
) -> AsyncIterator[Commit]:
    """Begin, yield a commit function, and roll back on the way out unless it was called."""
    await begin()
    committed = False

    async def commit_once() -> None:
        nonlocal committed
        await commit()
        committed = True

    try:
        yield commit_once
    finally:
        if not committed:
            await rollback()
