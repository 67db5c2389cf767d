"""The database: units of work and their repositories, the stores that write in one, pool and schema facts."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from uuid import UUID

from orderline.application.audit import AuditEntry
from orderline.application.ports.access import ApiKeyRepository, DashboardSessionRepository, UserRepository
from orderline.application.ports.catalogue import PetRepository, VoucherRepository
from orderline.application.ports.events import OutboxRepository
from orderline.application.ports.idempotency import IdempotencyRepository
from orderline.application.ports.orders import OrderCallback, OrderRepository, OrderTokenRepository
from orderline.application.ports.payments import PaymentRepository, ShopFigures
from orderline.application.ports.webhooks import WebhookRepository
from orderline.application.queries import AuditQuery


class AuditRepository(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...
    async def get(self, entry_id: UUID) -> AuditEntry | None: ...
    async def find(self, query: AuditQuery) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    @property
    def tenant(self) -> UUID:
        """The tenant this unit was opened for: its repositories see, change and insert that tenant's rows."""
        ...

    @property
    def orders(self) -> OrderRepository: ...
    @property
    def pets(self) -> PetRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def order_tokens(self) -> OrderTokenRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def vouchers(self) -> VoucherRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def figures(self) -> ShopFigures: ...  # the dashboard's overview (issue 12)
    @property
    def dashboard_sessions(self) -> DashboardSessionRepository: ...  # the dashboard's sign-ins (issue 12)

    async def commit(self) -> None: ...


class CommitObserver(Protocol):
    """Told, after each COMMIT, the audit entries that transaction recorded; never told of a rollback.

    Called synchronously after the commit, so it must be quick and do no I/O; what must survive a crash
    (an outbox row) is written inside the transaction instead, never by an observer.
    """

    def committed(self, entries: Sequence[AuditEntry]) -> None: ...


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """The database connections of this process that requests share: how many are busy, free, at most."""

    in_use: int
    idle: int
    limit: int


@dataclass(frozen=True, slots=True)
class SchemaRevision:
    """The schema revision a database is at (None: never migrated), and the newest this orderline ships."""

    current: str | None
    newest: str

    @property
    def is_current(self) -> bool:
        return self.current == self.newest


class Database(Protocol):
    """Opens units of work. Leaving one without ``commit()`` rolls it back.

    Every wait is bounded by the statement timeout: a statement, a lock, a free connection. Past it,
    the database raises DatabaseUnavailable, as it does when it cannot be reached at all.
    """

    def transaction(self, tenant: UUID) -> AbstractAsyncContextManager[UnitOfWork]:
        """A write transaction of ``tenant`` (ADR 0040), serialised against other writers of the rows it locks.
        Its repositories see, change and insert that tenant's rows only."""
        ...

    def snapshot(self, tenant: UUID) -> AbstractAsyncContextManager[UnitOfWork]:
        """A read-only, consistent view of ``tenant``'s rows."""
        ...

    async def ping(self) -> None: ...
    def usage(self) -> PoolUsage: ...
    async def schema_revision(self) -> SchemaRevision: ...
    async def close(self) -> None: ...


class OrderCallbackStore(Protocol):
    async def add(self, uow: UnitOfWork, callback: OrderCallback) -> None:
        """Insert the callback's webhook_subscriptions row in ``uow``'s transaction."""
        ...

    async def of_order(self, order_id: UUID) -> list[OrderCallback]:
        """The order's callbacks, oldest first."""


@runtime_checkable
class Lookups(Protocol):
    """A database that can run a one-statement read outside a transaction (in autocommit a statement is its
    own snapshot; both PostgreSQL and SQLite can). Authentication reads so; a database without it reads in a
    snapshot."""

    def lookup(self, tenant: UUID) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work of ``tenant`` for one read statement, as of the moment the statement runs."""
        ...
