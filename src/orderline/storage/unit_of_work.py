"""The unit of work: the repositories of one transaction on one connection, and its commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

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

Commit = Callable[[], Awaitable[None]]


class SqlUnitOfWork:
    def __init__(self, connection: Connection, commit: Commit) -> None:
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
        self._commit = commit

    async def commit(self) -> None:
        await self._commit()


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
