"""The composition root: the one module that knows every concrete class and wires them together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
from litestar import Litestar
from uuid_utils.compat import uuid7

from orderline.application.business_events import BusinessCounts, BusinessEvents, BusinessLog
from orderline.application.deliveries import RetryPolicy
from orderline.application.event_stream import OutboxBell, OutboxCommitted, StreamSlots, StreamTiming
from orderline.application.events import OutboxEvents, ReceiptLinks
from orderline.application.gateway import PaymentGateway
from orderline.application.ports import Clock, CommitObserver, IdGenerator, PasswordHasher, WakeupSource
from orderline.application.sandbox import Sandbox, Seeders
from orderline.application.tenant_time import TenantClock, TenantTimes
from orderline.application.use_cases import Callbacks, Streams, UseCases
from orderline.config import Settings, SettingsError
from orderline.events.destinations import PublicDestinations
from orderline.events.sender import Sender
from orderline.events.worker import Worker, WorkerOptions
from orderline.gateways import testmode
from orderline.http.api.event_wire import NativeBodies
from orderline.http.app import create_app
from orderline.security.callback_secret import callback_secret
from orderline.security.jwks import JwksTokens
from orderline.security.key_sources import load_keys
from orderline.security.passwords import Argon2Hasher
from orderline.security.tokens import JwtTokens
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.migrate import upgrade_async
from orderline.storage.notifications import PostgresOutboxListener
from orderline.storage.order_callbacks import SqlOrderCallbacks
from orderline.storage.order_views import SqlOrderViews
from orderline.storage.outbox_feed import SqlOutboxFeed
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.rate_limits import PostgresRateCounters
from orderline.storage.redis_wakeups import RedisOutboxPublisher, RedisOutboxSubscriber, channel_of
from orderline.storage.relay import SqlDeliveryQueue
from orderline.storage.revision import current_revision, head_revision
from orderline.storage.sandbox import SqlSandboxStore
from orderline.storage.sqlite import SqliteDatabase


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Ids:
    def new_id(self) -> UUID:
        return uuid7()


class SchemaOutdated(RuntimeError):
    """The database is not at the schema this version needs, and we may not migrate it ourselves."""


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    hasher: PasswordHasher | None = None,
    http: httpx.AsyncClient | None = None,
    gateway: Callable[[PaymentGateway], PaymentGateway] | None = None,
    observers: Sequence[CommitObserver] = (),
    outbox: bool = True,
    serving: bool = False,
) -> UseCases:
    """Open the database (migrating an embedded SQLite file first) and wire the use cases.

    ``gateway`` wraps the configured payment gateway (tests put a misbehaving network in front of it).
    Each write transaction writes the outbox events of what it recorded before its COMMIT (ADR 0027); what it
    committed goes to the business-event log line, the counts /metrics shows, and ``observers``. ``outbox``
    False writes no events: only for the benchmark that measures what writing them costs (bench/outbox.py).
    ``serving``: for a web process, which may need rate-limit counters shared with the others (ADR 0035).
    """
    url = DatabaseUrl.parse(settings.database_url)
    if settings.jwt_jwks_url and not settings.jwt_issuer:
        raise SettingsError("ORDERLINE_JWT_JWKS_URL needs ORDERLINE_JWT_ISSUER too")
    if url.dialect == "sqlite":
        await upgrade_async(url)
    counts = BusinessCounts()
    ids = ids or Uuid7Ids()
    receipts = ReceiptLinks(settings.public_url)
    bell = OutboxBell()
    publisher = None
    if settings.redis_url:
        publisher = RedisOutboxPublisher(settings.redis_url, channel_of(settings.redis_key_prefix))
    db = await open_database(
        url,
        pool_size=settings.db_pool_size,
        statement_timeout=settings.db_statement_timeout,
        observers=(
            BusinessEvents(BusinessLog(), counts),
            OutboxCommitted(bell),
            *((publisher,) if publisher else ()),
            *observers,
        ),
        events=OutboxEvents(NativeBodies(), ids, receipts) if outbox else None,
    )
    clock = clock or SystemClock()
    real, sandbox = clock, SqlSandboxStore(db) if settings.sandbox else None
    if sandbox is not None:  # every use case reads the time of the tenant it acts for (ADR 0041)
        clock = TenantClock(real)
    try:
        await ensure_schema_current(db, url)
        keys = load_keys(settings, default_key_file(url), clock.now())
    except BaseException:
        await db.close()
        raise
    external: JwksTokens | None = None
    on_close: tuple[Callable[[], Awaitable[object]], ...] = ()
    if settings.jwt_jwks_url and settings.jwt_issuer:
        client = http or httpx.AsyncClient()
        external = JwksTokens(settings.jwt_jwks_url, settings.jwt_issuer, settings.jwt_audience, client, clock)
        on_close = () if http else (client.aclose,)
    if publisher is not None:
        on_close = (*on_close, publisher.close)
    rate_counters = None
    if serving and shares_rate_limits_in_database(settings, url):
        rate_counters = await PostgresRateCounters.open(url.target, connect_within=settings.db_statement_timeout)
        on_close = (*on_close, rate_counters.close)
    use_cases = UseCases.wire(
        db,
        clock,
        ids,
        hasher=hasher or Argon2Hasher(),
        tokens=JwtTokens(
            keys.tokens,
            timedelta(seconds=settings.token_lifetime_seconds),
            clock,
            refresh_lifetime=timedelta(seconds=settings.refresh_token_lifetime_seconds),
        ),
        gateway=(gateway or (lambda configured: configured))(
            testmode.TestModeGateway(
                clock,
                timedelta(seconds=settings.test_gateway_refund_delay),
                keys.test_gateway_secret,
                slow_charge=timedelta(seconds=settings.test_gateway_slow_charge),
                faults=sandbox,
            )
        ),
        external=external,
        on_close=on_close,
        customer_erasure=settings.customer_erasure,
        payment_recovery_after=timedelta(seconds=settings.payment_recovery_after),
        counts=counts,
        receipts=receipts,
        delivery_queue=SqlDeliveryQueue(db),
        retry_policy=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base=timedelta(seconds=settings.webhook_backoff_base),
            cap=timedelta(seconds=settings.webhook_backoff_cap),
        ),
        destinations=PublicDestinations(allow_private=settings.webhooks_allow_private),
        webhook_secret_grace=timedelta(seconds=settings.webhook_secret_grace_seconds),
        streams=Streams(
            SqlOutboxFeed(db),
            bell,
            StreamSlots(settings.stream_limit, settings.stream_limit_per_principal),
            StreamTiming(settings.stream_heartbeat_seconds, settings.stream_poll_seconds, settings.stream_max_seconds),
            wakeup_sources(settings, url, bell),
        ),
        callbacks=Callbacks(SqlOrderCallbacks(db), callback_secret(settings.callback_secret, keys.test_gateway_secret)),
        rate_counters=rate_counters,
        order_views=SqlOrderViews(db),
        acting_for=None if sandbox is None else TenantTimes(sandbox).acting_for,
    )
    if sandbox is None:
        return use_cases
    seeders = Seeders(use_cases.api_keys, use_cases.catalogue, use_cases.vouchers, use_cases.users,
                      use_cases.orders, use_cases.payments, use_cases.refunds)  # fmt: skip
    return replace(use_cases, sandbox=Sandbox(sandbox, real, ids, seeders))


def shares_rate_limits_in_database(settings: Settings, url: DatabaseUrl) -> bool:
    """Several web processes count each client's requests together: in Redis when it is configured, else in
    PostgreSQL (ADR 0035). One process keeps its counters in memory."""
    return settings.workers > 1 and not settings.redis_url and url.dialect == "postgresql"


def wakeup_sources(settings: Settings, url: DatabaseUrl, bell: OutboxBell) -> tuple[WakeupSource, ...]:
    """What wakes live streams for events other processes wrote: Redis pub/sub when ORDERLINE_REDIS_URL is set,
    else PostgreSQL's LISTEN; SQLite's writers are this process (the commit observer) or are found by polling."""
    if settings.redis_url:
        return (RedisOutboxSubscriber(settings.redis_url, channel_of(settings.redis_key_prefix), bell.ring),)
    if url.dialect == "postgresql":
        return (PostgresOutboxListener(url.target, bell.ring, settings.db_statement_timeout),)
    return ()


def default_key_file(url: DatabaseUrl) -> Path | None:
    """Signing keys live beside an SQLite database, never in it; PostgreSQL has no such place."""
    return Path(f"{url.target}.keys") if url.dialect == "sqlite" else None


async def ensure_schema_current(db: SqliteDatabase | PostgresDatabase, url: DatabaseUrl) -> None:
    async with db.snapshot() as uow:
        revision = await current_revision(uow.connection)
    if revision != head_revision():
        raise SchemaOutdated(
            f"the database {url} is at schema {revision or 'none'}, but this orderline needs"
            f" {head_revision()}: run `orderline migrate --database-url URL` first"
        )


def app(settings: Settings | None = None) -> Litestar:
    """The ASGI app for ``settings`` (default: the environment), e.g. ``uvicorn --factory orderline.bootstrap:app``."""
    settings = settings or Settings.load()
    return create_app(settings, lambda: build(settings, serving=True))


def webhook_timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.webhook_connect_timeout,
        read=settings.webhook_read_timeout,
        write=settings.webhook_write_timeout,
        pool=settings.webhook_pool_timeout,
    )


def worker(settings: Settings, use_cases: UseCases, client: httpx.AsyncClient) -> Worker:
    """The worker of ``use_cases``: relay, sender (through ``client``) and recovery, as the settings say."""
    deadline = settings.webhook_connect_timeout + settings.webhook_write_timeout
    deadline += settings.webhook_read_timeout + settings.webhook_pool_timeout
    options = WorkerOptions(
        poll=settings.worker_poll_seconds,
        concurrency=settings.webhook_concurrency,
        per_subscription=settings.webhook_per_subscription,
        # Longer than any attempt can last, so a live worker never loses a lease it is still using.
        lease=timedelta(seconds=deadline + 5),
        recovery_every=settings.refund_poll_seconds,
    )
    destinations = PublicDestinations(allow_private=settings.webhooks_allow_private)
    sender = Sender(client, destinations, deadline=deadline, faults=use_cases.sandbox)
    return Worker(use_cases.deliveries, sender, use_cases.recovery, options)


def webhook_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client deliveries go through: explicit timeouts, no redirects, no proxy from the environment,
    and as many connections as deliveries in flight."""
    limits = httpx.Limits(
        max_connections=settings.webhook_concurrency, max_keepalive_connections=settings.webhook_concurrency
    )
    return httpx.AsyncClient(timeout=webhook_timeout(settings), limits=limits, follow_redirects=False, trust_env=False)


async def run_worker(settings: Settings, use_cases: UseCases, stop: asyncio.Event) -> None:
    """Run the worker until ``stop`` is set, then let the deliveries in flight finish."""
    async with webhook_client(settings) as client:
        await worker(settings, use_cases, client).run(stop)


@asynccontextmanager
async def worker_beside(settings: Settings, use_cases: UseCases) -> AsyncIterator[None]:
    """The worker running in this event loop for as long as the block lasts (``serve`` on SQLite)."""
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, use_cases, stop), name="worker")
    try:
        yield
    finally:
        stop.set()
        await running


def runs_worker_in_serve(settings: Settings, wanted: bool) -> bool:
    """The worker runs inside ``serve`` on SQLite (one process owns the file); never on PostgreSQL, where
    web processes come many and the worker is one ``orderline worker`` of its own."""
    return wanted and DatabaseUrl.parse(settings.database_url).dialect == "sqlite"
