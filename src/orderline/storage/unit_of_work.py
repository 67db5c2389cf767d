"""The unit of work: the repositories of one transaction on one connection, and its commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar, overload
from uuid import UUID

import structlog

from orderline.application.audit import AuditEntry
from orderline.application.ports import CommitObserver, EventSource
from orderline.application.principal import PUBLIC
from orderline.domain.order import Order
from orderline.domain.payment import Payment, Refund
from orderline.storage.access import SqlOrderTokenRepository
from orderline.storage.api_keys import SqlApiKeyRepository
from orderline.storage.audit import SqlAuditRepository
from orderline.storage.dashboard_sessions import SqlDashboardSessionRepository
from orderline.storage.driver import Connection
from orderline.storage.idempotency import SqlIdempotencyRepository
from orderline.storage.orders import SqlOrderRepository
from orderline.storage.outbox import SqlOutboxRepository
from orderline.storage.payments import SqlPaymentRepository
from orderline.storage.pets import SqlPetRepository
from orderline.storage.shop_figures import SqlShopFigures
from orderline.storage.users import SqlUserRepository
from orderline.storage.vouchers import SqlVoucherRepository
from orderline.storage.webhooks import SqlWebhookRepository

log = structlog.get_logger("orderline.storage")

Commit = Callable[[], Awaitable[None]]
T = TypeVar("T")


class _on_first_use(Generic[T]):  # noqa: N801 - used as a decorator, like the functools.cached_property it replaces
    """Made on first use, then kept in the instance's ``__dict__`` (which attribute lookup reads before this
    non-data descriptor, so later reads cost a plain attribute read): ``functools.cached_property`` without its
    lock, which Python 3.11 takes on every first read (ADR 0046). A unit of work is used by one task at a time."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make = make
        self._name = make.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _on_first_use[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | _on_first_use[T]:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._make(instance)
        return value


class SqlUnitOfWork:
    """Opened for one tenant (ADR 0040): each repository reads, writes and inserts that tenant's rows only, so no
    call site can forget the filter. A repository is made when first used: most units of work touch two or three
    of the thirteen, and a request opens two or more units (ADR 0044)."""

    def __init__(
        self,
        connection: Connection,
        commit: Commit,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
        tenant: UUID = PUBLIC,
    ) -> None:
        self.connection = connection
        self.tenant = tenant
        self._commit = commit
        self._observers = observers
        self._events = events  # None: no outbox events (a read-only snapshot; the benchmark's baseline)

    @_on_first_use
    def payments(self) -> SqlPaymentRepository:
        return SqlPaymentRepository(self.connection, self.tenant)

    @_on_first_use
    def orders(self) -> SqlOrderRepository:
        return SqlOrderRepository(self.connection, self.payments, self.tenant)

    @_on_first_use
    def pets(self) -> SqlPetRepository:
        return SqlPetRepository(self.connection, self.tenant)

    @_on_first_use
    def api_keys(self) -> SqlApiKeyRepository:
        return SqlApiKeyRepository(self.connection, self.tenant)

    @_on_first_use
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self.connection, self.tenant)

    @_on_first_use
    def order_tokens(self) -> SqlOrderTokenRepository:
        return SqlOrderTokenRepository(self.connection, self.tenant)

    @_on_first_use
    def audit(self) -> SqlAuditRepository:
        return SqlAuditRepository(self.connection, self.tenant)

    @_on_first_use
    def idempotency(self) -> SqlIdempotencyRepository:
        return SqlIdempotencyRepository(self.connection, self.tenant)

    @_on_first_use
    def vouchers(self) -> SqlVoucherRepository:
        return SqlVoucherRepository(self.connection, self.tenant)

    @_on_first_use
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self.connection, self.tenant)

    @_on_first_use
    def webhooks(self) -> SqlWebhookRepository:
        return SqlWebhookRepository(self.connection, self.tenant)

    @_on_first_use
    def figures(self) -> SqlShopFigures:
        return SqlShopFigures(self.connection, self.tenant)  # the dashboard's overview (issue 12)

    @_on_first_use
    def dashboard_sessions(self) -> SqlDashboardSessionRepository:
        return SqlDashboardSessionRepository(self.connection, self.tenant)  # the dashboard's sign-ins (issue 12)

    @property
    def recorded(self) -> Sequence[AuditEntry]:
        """The audit entries this transaction appended, in order: what it commits, or what vanishes with it."""
        audit: SqlAuditRepository | None = self.__dict__.get("audit")  # not made: nothing was appended
        return () if audit is None else audit.appended

    async def commit(self) -> None:
        """Write the events of what was recorded to the outbox, COMMIT, then tell the observers.

        The outbox rows go in before COMMIT, in this transaction, so the change, its audit entry and its events
        are durable together or not at all (ADR 0027); observers only learn of what is already durable.
        """
        recorded = self.recorded
        if self._events is not None and recorded:
            await self.outbox.add(self._events.events(recorded, _Seen(self.orders, self.payments)))
        await self._commit()
        if recorded:
            notify(self._observers, tuple(recorded))


class _Seen:
    """What this transaction's repositories loaded or wrote (ports.Sighted): what its events are made of."""

    def __init__(self, orders: SqlOrderRepository, payments: SqlPaymentRepository) -> None:
        self._orders = orders
        self._payments = payments

    def order(self, order_id: UUID) -> Order | None:
        return self._orders.seen.get(order_id)

    def payment(self, payment_id: UUID) -> Payment | None:
        return self._payments.seen_payments.get(payment_id)

    def refund(self, refund_id: UUID) -> Refund | None:
        return self._payments.seen_refunds.get(refund_id)


def notify(observers: Sequence[CommitObserver], entries: Sequence[AuditEntry]) -> None:
    """Hand committed entries to each observer. One that fails is logged and skipped: the work is done."""
    for observer in observers:
        try:
            observer.committed(entries)
        except Exception:
            log.exception("commit observer failed; the transaction stands", observer=type(observer).__name__)


@asynccontextmanager
async def committed_or_rolled_back(
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
