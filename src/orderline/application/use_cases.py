"""The use cases of one running service: what adapters (routes, the CLI) may call, and nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from orderline.application.api_keys import ApiKeys
from orderline.application.audit_log import AuditLog
from orderline.application.authenticator import Authenticator
from orderline.application.business_events import BusinessCounts
from orderline.application.callbacks import OrderCallbacks
from orderline.application.catalogue import Catalogue
from orderline.application.dashboard import Dashboard
from orderline.application.deliveries import Deliveries, RetryPolicy
from orderline.application.event_stream import EventStream, OutboxBell, StreamSlots, StreamTiming
from orderline.application.events import ReceiptLinks
from orderline.application.gateway import PaymentGateway
from orderline.application.health import Health
from orderline.application.idempotency import Idempotency
from orderline.application.operations import Operations
from orderline.application.order_edits import OrderEdits
from orderline.application.order_finder import OrderFinder
from orderline.application.order_views import OrderReads
from orderline.application.orders import Orders
from orderline.application.overview import Overview
from orderline.application.payments import Payments
from orderline.application.ports import (
    Clock,
    Database,
    DeliveryQueue,
    Destinations,
    ExternalTokens,
    IdGenerator,
    OrderCallbackStore,
    OrderViews,
    OutboxFeed,
    PasswordHasher,
    RateCounters,
    TokenIssuer,
    WakeupSource,
)
from orderline.application.recovery import Recovery
from orderline.application.refunds import Refunds
from orderline.application.sandbox import Sandbox
from orderline.application.staff_sessions import StaffSessions
from orderline.application.users import Users
from orderline.application.vouchers import Vouchers
from orderline.application.webhooks import Webhooks


@dataclass(frozen=True, slots=True)
class Streams:
    """What live streams are wired with: the outbox's read side, this process's bell and what rings it from
    elsewhere (PostgreSQL LISTEN, Redis), the stream limits and timings."""

    feed: OutboxFeed
    bell: OutboxBell
    slots: StreamSlots
    timing: StreamTiming
    sources: tuple[WakeupSource, ...] = ()


@dataclass(frozen=True, slots=True)
class Callbacks:
    """Order callbacks: where they are stored, and the secret that signs them."""

    store: OrderCallbackStore
    secret: str


@dataclass(frozen=True, slots=True)
class UseCases:
    """The use cases, wired once. Adapters never see the database, the clock or the id source."""

    health: Health
    catalogue: Catalogue
    orders: Orders
    order_edits: OrderEdits
    payments: Payments
    refunds: Refunds
    recovery: Recovery
    api_keys: ApiKeys
    users: Users
    authenticator: Authenticator
    audit_log: AuditLog
    dashboard: Dashboard
    idempotency: Idempotency
    vouchers: Vouchers
    operations: Operations
    deliveries: Deliveries
    webhooks: Webhooks
    event_stream: EventStream
    order_callbacks: OrderCallbacks
    # The dashboard's (issue 12): staff sessions, and orders found as staff ask for them.
    staff_sessions: StaffSessions
    order_finder: OrderFinder
    overview: Overview
    order_reads: OrderReads
    on_close: tuple[Callable[[], Awaitable[object]], ...] = ()
    # Rate-limit counters shared by several web processes (ADR 0035); None: each process counts for itself.
    rate_counters: RateCounters | None = None
    # Sandbox controls (ORDERLINE_SANDBOX, ADR 0041), wired once the rest is; None outside the sandbox.
    sandbox: Sandbox | None = None

    @classmethod
    def wire(
        cls,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        *,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        gateway: PaymentGateway,
        counts: BusinessCounts,
        destinations: Destinations,
        external: ExternalTokens | None = None,
        on_close: tuple[Callable[[], Awaitable[object]], ...] = (),
        customer_erasure: bool = False,
        payment_recovery_after: timedelta = timedelta(seconds=30),
        receipts: ReceiptLinks | None = None,
        delivery_queue: DeliveryQueue,
        retry_policy: RetryPolicy | None = None,
        webhook_secret_grace: timedelta = timedelta(days=1),
        streams: Streams,
        callbacks: Callbacks,
        rate_counters: RateCounters | None = None,
        order_views: OrderViews,
        acting_for: Callable[[UUID], AbstractAsyncContextManager[object]] | None = None,
    ) -> UseCases:
        """``counts`` is one of the commit observers ``db`` was opened with: the business counts of /metrics.
        ``acting_for``: the sandbox's (ADR 0041), which background work enters per row to act in its tenant's time."""
        refunds = Refunds(db, clock, ids, gateway, acting_for)
        payments = Payments(
            db,
            clock,
            ids,
            gateway,
            refunds,
            recover_after=payment_recovery_after,
            receipts=receipts or ReceiptLinks(),
            acting_for=acting_for,
        )
        orders = Orders(db, clock, ids, refunds, customer_erasure=customer_erasure)
        event_stream = EventStream(db, streams.feed, streams.bell, streams.slots, streams.timing, streams.sources)
        dashboard = Dashboard(db, clock)
        users = Users(db, clock, ids, hasher, tokens)
        authenticator = Authenticator(db, tokens, external, order_views)
        return cls(
            health=Health(db),
            catalogue=Catalogue(db, clock, ids),
            orders=orders,
            order_edits=OrderEdits(db, clock, ids, orders, refunds),
            payments=payments,
            refunds=refunds,
            recovery=Recovery(payments, refunds),
            api_keys=ApiKeys(db, clock, ids),
            users=users,
            authenticator=authenticator,
            audit_log=AuditLog(db),
            dashboard=dashboard,
            idempotency=Idempotency(db, clock),
            vouchers=Vouchers(db, clock, ids),
            operations=Operations(db, counts),
            deliveries=Deliveries(delivery_queue, clock, ids, retry_policy),
            webhooks=Webhooks(db, clock, ids, destinations, secret_grace=webhook_secret_grace),
            event_stream=event_stream,
            order_callbacks=OrderCallbacks(db, clock, ids, callbacks.store, callbacks.secret, destinations),
            staff_sessions=StaffSessions(db, clock, ids, users, authenticator),
            order_finder=OrderFinder(db, orders),
            overview=Overview(db, clock),
            order_reads=OrderReads(order_views),
            on_close=(*on_close, event_stream.close, db.close),
            rate_counters=rate_counters,
        )

    async def close(self) -> None:
        for close in self.on_close:
            await close()
