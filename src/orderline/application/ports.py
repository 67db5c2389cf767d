"""Ports: what the use cases need from the outside world, as Protocols the adapters implement, and the
plain records they exchange. A leaf: it imports the domain and no other application module that imports it."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from orderline.application.audit import AuditEntry
from orderline.application.principal import PUBLIC, Scope
from orderline.application.queries import AuditQuery, OrderQuery, OrderSearch, Owner, PetQuery, UserQuery
from orderline.domain.address import Address
from orderline.domain.order import Order
from orderline.domain.payment import Payment, Refund
from orderline.domain.pet import Pet, Species
from orderline.domain.user import Role, User, UserStatus
from orderline.domain.voucher import Voucher


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID: ...


@dataclass(frozen=True, slots=True)
class StockCounts:
    available: int = 0
    pending: int = 0
    adopted: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True)
class Inventory:
    counts: StockCounts
    by_species: dict[Species, StockCounts] = field(default_factory=dict)


@dataclass(slots=True)
class ApiKey:
    id: UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    tenant: UUID | None = None  # the tenant it is bound to; None: the operator's key, acting where asked (ADR 0040)


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """What an anonymous order's token stands for: the order, in the order's tenant."""

    order_id: UUID
    tenant: UUID


@dataclass(frozen=True, slots=True)
class OrderCounts:
    """Orders created since some moment: how many, and how many of them are now CANCELLED."""

    orders: int
    cancelled: int


class OrderRepository(Protocol):
    async def get(self, order_id: UUID, *, for_update: bool = False) -> Order | None: ...
    async def add(self, order: Order, address_id: UUID | None = None) -> None:
        """Insert the order, its lines, and its billing address as its own row under ``address_id``; number it
        (``order.seq`` becomes its row's)."""
        ...

    async def save(self, order: Order) -> None:
        """Write the order back; StaleVersion if it changed since this unit of work read it."""
        ...

    async def link_billing_address(self, order_id: UUID, address: Address, address_id: UUID, now: datetime) -> None:
        """Insert ``address`` as a new row and point the order at it (the old row stays)."""
        ...

    async def remove(self, order_id: UUID) -> None:
        """Delete the order with its lines and token; its billing address row stays."""
        ...

    async def count_by_status(self) -> dict[str, int]: ...
    async def counts_since(self, since: datetime) -> OrderCounts: ...
    async def find(self, query: OrderQuery) -> list[Order]:
        """Up to ``query.limit + 1`` orders, newest first; the extra one tells another page exists."""
        ...

    async def search(self, where: OrderSearch, *, offset: int, limit: int) -> list[Order]:
        """Up to ``limit`` orders matching ``where``, newest first (seq descending), skipping ``offset``."""
        ...

    async def count(self, where: OrderSearch) -> int: ...
    async def get_by_seq(self, seq: int) -> Order | None:
        """The order numbered ``seq``; callers keep ``seq`` within the column's range (1 to 2**63 - 1)."""
        ...

    async def get_by_number(self, counted: int) -> Order | None:
        """The order whose number is NUMBER_OFFSET + ``counted`` in this tenant (within the column's range)."""
        ...

    async def ids_by_seq(self, seqs: Sequence[int], owner: Owner) -> dict[int, UUID]:
        """The ids of the orders numbered ``seqs`` (each within the column's range) that ``owner`` holds."""
        ...


class PetRepository(Protocol):
    async def get(self, pet_id: UUID, *, for_update: bool = False) -> Pet | None:
        """A pet still in the catalogue (removed pets are not found)."""
        ...

    async def get_many(
        self, pet_ids: Sequence[UUID], *, for_update: bool = False, include_removed: bool = False
    ) -> dict[UUID, Pet]:
        """Load several pets; with ``for_update`` they are locked in id order, so writers never deadlock."""
        ...

    async def add(self, pet: Pet) -> None: ...
    async def save(self, pet: Pet) -> None: ...
    async def shift_stock(
        self, pet_id: UUID, *, reserved: int, sold: int, now: datetime, include_removed: bool = False
    ) -> Pet | None:
        """Move the counters by these amounts in one statement if they stay within the stock, and lock the row;
        the pet as it is then, or None (not there, removed, or the move refused: ask the domain why)."""
        ...

    async def remove(self, pet_id: UUID, now: datetime) -> None: ...
    async def find(self, query: PetQuery) -> list[Pet]:
        """Up to ``query.limit + 1`` pets in id order; the extra one tells another page exists."""
        ...

    async def any(self) -> bool: ...
    async def low_stock(self, at_most: int, limit: int) -> list[Pet]:
        """Pets with at most ``at_most`` free units, fewest first."""
        ...

    async def inventory(self) -> Inventory: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def find_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def list(self) -> list[ApiKey]: ...
    async def revoke(self, key_id: UUID, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What authentication needs of a user's row: no more (ADR 0044)."""

    role: Role
    status: UserStatus


class UserRepository(Protocol):
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None: ...
    async def standing(self, user_id: UUID) -> UserStanding | None:
        """The user's role and status, read without building the whole user; None if there is no such user."""
        ...

    async def get_by_username(self, username: str) -> User | None: ...
    async def add(self, user: User) -> None:
        """Raises DuplicateUser when the username or the email is taken."""
        ...

    async def save(self, user: User) -> None: ...
    async def find(self, query: UserQuery) -> list[User]: ...


class OrderTokenRepository(Protocol):
    async def add(self, order_id: UUID, token_hash: str) -> None: ...
    async def order_of(self, token_hash: str) -> TokenHolder | None:
        """The order a token opens, whichever tenant it is in (the token is how its tenant is learnt)."""
        ...


class AuditRepository(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...
    async def get(self, entry_id: UUID) -> AuditEntry | None: ...
    async def find(self, query: AuditQuery) -> list[AuditEntry]: ...


class VoucherRepository(Protocol):
    async def get(self, voucher_id: UUID, *, for_update: bool = False) -> Voucher | None: ...
    async def get_by_code(self, code: str, *, for_update: bool = False) -> Voucher | None: ...
    async def add(self, voucher: Voucher) -> None: ...
    async def save(self, voucher: Voucher) -> None: ...
    async def remove(self, code: str, now: datetime) -> bool: ...
    async def find(self, limit: int, after_id: UUID | None) -> list[Voucher]: ...


@dataclass(frozen=True, slots=True)
class RefundDue:
    """A refund still to be asked of the gateway (or asked again), with the charge it returns."""

    refund: Refund
    charge_reference: str
    tenant: UUID  # the refund's: it is settled there (ADR 0040)


class PaymentRepository(Protocol):
    """Payments and refunds: the money facts of orders. Callers lock the order row first."""

    async def add(self, payment: Payment) -> None: ...
    async def save(self, payment: Payment) -> None: ...
    async def get(self, payment_id: UUID) -> Payment | None: ...
    async def of_order(self, order_id: UUID) -> list[Payment]:
        """Oldest first."""
        ...

    async def processing(self, started_before: datetime | None, limit: int) -> list[tuple[UUID, Payment]]:
        """PROCESSING payments started before ``started_before`` (None: all of them), oldest first."""
        ...

    async def find(self, order_id: UUID, limit: int, after_id: UUID | None) -> list[Payment]:
        """Up to ``limit + 1`` of the order's payments after ``after_id``, in id order (oldest first)."""
        ...

    async def add_refund(self, refund: Refund) -> None: ...
    async def save_refund(self, refund: Refund) -> None: ...
    async def get_refund(self, refund_id: UUID, *, for_update: bool = False) -> Refund | None: ...
    async def refund_by_reference(self, reference: str) -> RefundDue | None: ...
    async def refunds_of(self, order_id: UUID) -> list[Refund]: ...
    async def pending_refunds(self, limit: int) -> list[RefundDue]:
        """PENDING refunds, oldest first."""
        ...

    async def net_captured_since(self, since: datetime) -> dict[str, int]:
        """Per currency, in minor units: what payments captured since ``since``, less what refunds returned
        since then. Erased orders' payments count: money facts outlive their order."""
        ...

    async def forget_holders(self, order_id: UUID) -> None:
        """Remove the card holder's name and address from the order's payments (erasure)."""
        ...

    async def count_pending_refunds(self) -> int: ...


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # due at next_attempt_at
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    DEAD = "DEAD"  # every attempt failed; only a replay sends it again


@dataclass(slots=True)
class WebhookSubscription:
    """A webhook subscription (``order_id`` None) or an order's callback (``order_id`` set)."""

    id: UUID
    url: str
    events: tuple[str, ...]  # patterns: an event type, a family ("order.*") or "*"
    description: str | None
    active: bool
    secret: str  # whsec_<base64>, kept as it is: it signs
    created_at: datetime
    updated_at: datetime
    previous_secret: str | None = None  # still signs, beside the secret, until previous_secret_expires_at
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None  # why the service turned it off (a 410), None when it did not
    order_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event's delivery to one subscription, as its sender left it."""

    id: UUID
    subscription_id: UUID
    event_id: UUID
    event_seq: int
    event_type: str | None  # None once the event has left the outbox
    order_id: UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxEventRef:
    """Where an event stands in the outbox: what a new delivery of it needs."""

    id: UUID
    seq: int
    order_id: UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    subscription_id: UUID
    limit: int
    status: DeliveryStatus | None = None
    before_id: UUID | None = None  # newest first: continue below this id


class WebhookRepository(Protocol):
    """Webhook subscriptions, their deliveries, and the outbox as far as they read or write it. Order callbacks
    (``order_id`` set) are never returned by ``get`` or ``find``."""

    async def add(self, subscription: WebhookSubscription) -> None: ...
    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> WebhookSubscription | None: ...
    async def save(self, subscription: WebhookSubscription) -> None: ...
    async def remove(self, subscription_id: UUID) -> bool:
        """Delete the subscription and its deliveries; False if there was none."""
        ...

    async def find(self, limit: int, after_id: UUID | None) -> list[WebhookSubscription]:
        """Up to ``limit + 1`` subscriptions in id order (oldest first), after ``after_id``."""
        ...

    async def deliveries(self, query: DeliveryQuery) -> list[WebhookDelivery]:
        """Up to ``query.limit + 1`` of the subscription's deliveries, newest first."""
        ...

    async def get_delivery(self, subscription_id: UUID, delivery_id: UUID) -> WebhookDelivery | None: ...
    async def requeue(self, delivery_id: UUID, now: datetime) -> None:
        """PENDING, due ``now``, with its attempts reset to 0."""
        ...

    async def events_since(
        self, subscription_id: UUID, patterns: Sequence[str], since: datetime, limit: int
    ) -> list[OutboxEventRef]:
        """Up to ``limit`` outbox events that occurred at or after ``since`` and that the subscription receives
        (its patterns match, or the event was for it alone), oldest first."""
        ...

    async def add_deliveries(
        self, subscription_id: UUID, events: Sequence[tuple[UUID, OutboxEventRef]], now: datetime
    ) -> None:
        """A PENDING delivery, due ``now``, under each given id, of each event."""
        ...


class Destinations(Protocol):
    """Where webhooks may be sent: the check against server-side request forgery."""

    async def check(self, url: str) -> None:
        """Raise UnsafeDestination unless every address ``url``'s host resolves to is public."""
        ...

    async def safe_addresses(self, url: str) -> list[IPv4Address | IPv6Address]:
        """Every address ``url``'s host resolves to, after the same check: what a sender may connect to."""
        ...


class KeyState(StrEnum):
    IN_FLIGHT = "IN_FLIGHT"
    DONE = "DONE"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True, slots=True)
class KeyRecord:
    fingerprint: str
    state: KeyState
    response: StoredResponse | None


class IdempotencyRepository(Protocol):
    async def claim(
        self, owner: str, key: str, fingerprint: str, now: datetime, *, expires_at: datetime, stale_before: datetime
    ) -> bool:
        """Take the key IN_FLIGHT if it is free, expired, or IN_FLIGHT since before ``stale_before``; False if
        someone holds it."""
        ...

    async def get(self, owner: str, key: str) -> KeyRecord | None: ...
    async def complete(self, owner: str, key: str, response: StoredResponse) -> None: ...
    async def release(self, owner: str, key: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    issuer: str
    scopes: frozenset[str]
    expires_at: datetime
    tenant: UUID = PUBLIC  # the tenant the subject belongs to: the token acts there, whatever X-Tenant-ID says


class TokenType(StrEnum):
    ACCESS = "access"  # authenticates requests
    REFRESH = "refresh"  # only buys a new access token


class TokenIssuer(Protocol):
    def issue(self, subject: UUID, scopes: frozenset[Scope], now: datetime, tenant: UUID) -> tuple[str, datetime]:
        """An access token of a user of ``tenant``."""
        ...

    def issue_refresh(self, subject: UUID, now: datetime, tenant: UUID) -> tuple[str, datetime]: ...
    def verify(self, token: str) -> Claims:
        """Claims of a valid access token of ours; anything else raises Unauthenticated (WrongTokenType for a
        refresh token)."""
        ...

    def verify_refresh(self, token: str) -> Claims:
        """Claims of a valid refresh token of ours; anything else raises Unauthenticated."""
        ...


class ExternalTokens(Protocol):
    async def verify(self, token: str) -> Claims | None:
        """Claims of a valid token from the trusted issuer, None for a token not meant for it."""
        ...


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


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as the outbox keeps it (ADR 0027): ``payload`` is what subscribers receive,
    ``{eventId, eventType, timestamp, data}``; ``subscription_id`` set: only that subscription's (a ping)."""

    id: UUID
    event_type: str
    order_id: UUID | None
    occurred_at: datetime
    payload: dict[str, Any]
    subscription_id: UUID | None = None


class OutboxRepository(Protocol):
    async def add(self, events: Sequence[EventRecord]) -> None:
        """Append the events inside the caller's transaction: they commit or vanish with the change that caused
        them. On PostgreSQL, also NOTIFY ``orderline_outbox`` with the newest seq (delivered on COMMIT)."""
        ...


class EventRenderer(Protocol):
    """The native API's bodies, as JSON values, for event payloads: an order exactly as ``GET
    /v1/orders/{id}`` answers it, a payment exactly as Pay Order does."""

    def order(self, order: Order) -> dict[str, Any]: ...
    def payment(self, payment: Payment) -> dict[str, Any]: ...


class Sighted(Protocol):
    """What one transaction's repositories loaded or wrote, as it last saw each record (None: never seen)."""

    def order(self, order_id: UUID) -> Order | None: ...
    def payment(self, payment_id: UUID) -> Payment | None: ...
    def refund(self, refund_id: UUID) -> Refund | None: ...


class EventSource(Protocol):
    """Turns what a transaction recorded into its outbox events; the unit of work writes them before COMMIT."""

    def events(self, entries: Sequence[AuditEntry], seen: Sighted) -> list[EventRecord]: ...


@dataclass(frozen=True, slots=True, order=True)
class StreamPosition:
    """Where a live stream stands in the outbox. Streams run in (tx, seq) order: ``tx`` is the writing
    transaction's id on PostgreSQL (0 on SQLite, whose single writer commits in seq order), so an event that
    commits after a later-numbered one still comes after every event a reader has passed (ADR 0030)."""

    tx: int
    seq: int


START = StreamPosition(0, 0)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as a stream serves it: its position, its type, and its payload JSON as stored."""

    position: StreamPosition
    event_type: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Entries after a position; ``held_back``: some later event has committed but is not served yet, because an
    older transaction is still running (read again soon rather than wait for the next wake-up)."""

    entries: list[OutboxEntry]
    held_back: bool = False


class OutboxFeed(Protocol):
    """The read side of the outbox, for live streams: ``tenant``'s events only (ADR 0040). ``order_id`` None:
    every order's events (and the rest)."""

    async def head(self, tenant: UUID, order_id: UUID | None) -> StreamPosition:
        """The position of the newest event a stream may serve now (START when there is none)."""
        ...

    async def position_of(self, tenant: UUID, seq: int, order_id: UUID | None) -> StreamPosition | None:
        """The position of the event numbered ``seq`` (of that order), None if there is none."""
        ...

    async def after(self, tenant: UUID, position: StreamPosition, order_id: UUID | None, limit: int) -> OutboxBatch:
        """Up to ``limit`` events after ``position``, in stream order, that no running transaction can precede."""
        ...


class WakeupSource(Protocol):
    """Something that rings the stream's bell when another process or connection wrote to the outbox (PostgreSQL
    LISTEN, Redis pub/sub). Started by the first stream, closed with the use cases."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OrderCallback:
    """An order's one-off callback (the Pet Store's ``orderProcessed``): a webhook subscription bound to one order."""

    id: UUID
    order_id: UUID
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


class OrderCallbackStore(Protocol):
    async def add(self, uow: UnitOfWork, callback: OrderCallback) -> None:
        """Insert the callback's webhook_subscriptions row in ``uow``'s transaction."""
        ...

    async def of_order(self, order_id: UUID) -> list[OrderCallback]:
        """The order's callbacks, oldest first."""


# Webhook delivery (ADR 0029): what the worker's relay and sender ask of storage.


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An outbox row the relay has claimed: enough to choose the subscriptions it goes to."""

    seq: int
    id: UUID
    event_type: str
    order_id: UUID | None
    subscription_id: UUID | None  # set: only this subscription's (a ping)
    tenant: UUID = PUBLIC  # only this tenant's subscriptions receive it (ADR 0040)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active subscription, as the relay matches events against it."""

    id: UUID
    events: tuple[str, ...]  # patterns: "order.created", "order.*", "*"
    order_id: UUID | None  # set: an order callback, only that order's events
    tenant: UUID = PUBLIC  # it receives this tenant's events only (ADR 0040)


class EventRoute(Protocol):
    def __call__(self, event: OutboxEvent, subscribers: Sequence[Subscriber]) -> Sequence[UUID]:
        """The ids of the subscribers ``event`` is delivered to."""
        ...


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery a sender has leased until ``lease``: what to send, where, and signed with which secrets."""

    id: UUID
    subscription_id: UUID
    url: str
    secret: str
    previous_secret: str | None  # signs too while previous_secret_expires_at is in the future
    previous_secret_expires_at: datetime | None
    event_id: UUID  # the webhook-id, the same on every attempt
    event_seq: int
    order_id: UUID | None
    body: bytes  # the outbox payload as JSON, the same bytes on every attempt
    attempts: int  # attempts made before this one
    lease: datetime  # locked_until as this sender set it: its claim on the outcome
    tenant: UUID = PUBLIC  # the delivery's (ADR 0040): the sandbox's faults are per tenant (ADR 0041)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """What one attempt came to, as the delivery keeps it."""

    at: datetime
    status_code: int | None  # None: no answer (refused, timed out, destination refused)
    response: str  # the first bytes of the answer, or the error that stood for it


@dataclass(frozen=True, slots=True)
class Settlement:
    """One attempt to record: the delivery becomes ``status`` (PENDING: again at ``retry_at``); with
    ``disable`` set, its subscription is disabled for that reason (a 410)."""

    delivery: DueDelivery
    attempt: AttemptRecord
    status: str  # DELIVERED, PENDING, DEAD
    retry_at: datetime | None = None
    disable: str | None = None


class DeliveryQueue(Protocol):
    """The outbox and the webhook deliveries, as the worker moves events from one to the other.

    Every method is one transaction. On PostgreSQL claims skip rows another worker holds (SKIP LOCKED),
    so any number of workers share the work; on SQLite the single writer serialises them.
    """

    async def relay(self, limit: int, now: datetime, ids: IdGenerator, route: EventRoute) -> int:
        """Claim up to ``limit`` undispatched outbox rows, oldest first, make one PENDING delivery per
        subscriber ``route`` picks among the active ones, and mark them dispatched; how many rows it took."""
        ...

    async def claim(self, now: datetime, lease: datetime, limit: int, per_subscription: int) -> list[DueDelivery]:
        """Lease up to ``limit`` PENDING deliveries due by ``now`` until ``lease``: active subscriptions only,
        at most ``per_subscription`` leased per subscription at once, and never one behind an earlier event of
        the same order for the same subscription that is still pending or not yet dispatched."""
        ...

    async def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record attempts, all in one transaction; for each, False if its sender's lease was lost meanwhile
        (another sender has the delivery now, and records it)."""
        ...


@runtime_checkable
class Lookups(Protocol):
    """A database that can run a one-statement read outside a transaction (in autocommit a statement is its
    own snapshot; both PostgreSQL and SQLite can). Authentication reads so; a database without it reads in a
    snapshot."""

    def lookup(self, tenant: UUID) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work of ``tenant`` for one read statement, as of the moment the statement runs."""
        ...


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One UTC day of the dashboard's overview: orders placed that day (and how many of them are CANCELLED
    now), and per currency the money captured that day less the money refunded that day, in minor units."""

    day: date
    orders: int = 0
    cancelled: int = 0
    net_minor: dict[str, int] = field(default_factory=dict)


class ShopFigures(Protocol):
    """Figures over a stretch of days, each one grouped query over an index on its time column."""

    async def per_day(self, since: datetime) -> list[DayFigures]:
        """The days since ``since`` (a UTC midnight) on which anything happened, oldest first."""
        ...

    async def refunds_by_status(self) -> dict[str, int]:
        """Refunds PENDING (the money is on its way back) and FAILED (it never went), by status."""
        ...

    async def by_status(self, since: datetime) -> dict[tuple[str, str | None], int]:
        """Orders placed since ``since``, by the status they are in now and their cancel reason (if any)."""
        ...


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """A staff member's sign-in to the dashboard: the browser holds its secret, we keep the secret's hash."""

    id: UUID
    secret_hash: str
    user_id: UUID
    tenant: UUID  # the account's, where every page of the session reads (ADR 0043)
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class DashboardSessionRepository(Protocol):
    async def add(self, session: DashboardSession) -> None: ...
    async def find_by_hash(self, secret_hash: str) -> DashboardSession | None:
        """Across tenants, as a credential is: the hash is unique everywhere, and the row names its tenant."""
        ...

    async def end(self, secret_hash: str, now: datetime) -> None:
        """Forget the session (signed out): its secret finds nothing any more."""
        ...

    async def remove_expired(self, now: datetime) -> int:
        """Forget the sessions that ended by time (``expires_at`` is indexed); how many there were."""
        ...


class RateCounters(Protocol):
    """Fixed-window request counters shared by every web process of the service (ADR 0035).

    A failure to count (the store cannot be reached, or answers late) raises DatabaseUnavailable; the
    caller then lets the request through uncounted.
    """

    connections: int  # counts it can make at once; a caller bounds its calls in flight by it

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count one request against ``key``'s window of ``window`` seconds, opening one if none is open:
        the count in the window so far, and the seconds left in it."""
        ...


# The read model's records are slotted but not frozen: a frozen dataclass sets each field through
# object.__setattr__, and a list of 20 orders builds some 500 fields per request (ADR 0033). Nothing mutates
# a view once the read model has built it.
@dataclass(slots=True)
class OrderLineView:
    """One line as an order's read model shows it: amounts already decimal strings of the order's currency."""

    id: int
    pet_id: UUID
    name: str
    unit_price: str
    quantity: int
    amount: str


@dataclass(slots=True)
class AddressView:
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str


@dataclass(slots=True)
class OrderView:
    """An order as reads show it, decoded from its rows without the domain (the style guide: reads may skip
    the domain): the values every order route answers with, wire-ready; ``seq`` continues a list's cursor."""

    id: UUID
    seq: int
    number: str
    user_id: UUID | None
    status: str
    currency: str
    items: list[OrderLineView]
    note: str | None
    total_amount: str
    subtotal_amount: str
    discount_amount: str
    voucher_code: str | None
    billing_address: AddressView | None
    payment_status: str
    paid_amount: str
    refunded_amount: str
    paid_at: datetime | None
    cancel_reason: str | None
    cancel_note: str | None
    cancel_requested_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    tenant_id: UUID | None  # None: the public pool (ADR 0040)

    @property
    def pet_id(self) -> UUID:
        """The first line's pet: the legacy Pet Store's one-pet order (ADR 0006)."""
        return self.items[0].pet_id


@dataclass(slots=True)
class CustomerView:
    """An order's customer as a read shows them beside the order (the DRF shop's ``SimpleCustomerSerializer``),
    read in the order's own statement (ADR 0048): no password, no role; ``status`` says whether the account is
    closed, which the use case, not the read, turns into no customer."""

    email: str
    first_name: str | None
    last_name: str | None
    status: str


ShownOrder = tuple[OrderView, CustomerView | None]  # an order and its customer's row, if it has a customer


class OrderViews(Protocol):
    """The orders' read model: one statement per read, rows decoded straight into OrderView (ADR 0033)."""

    async def one(self, tenant: UUID, order_id: UUID, owner: Owner) -> OrderView | None:
        """The order, if it is among ``owner``'s orders of ``tenant`` (``Owner()``: every order); None otherwise."""
        ...

    async def page(self, tenant: UUID, query: OrderQuery) -> list[OrderView]:
        """The orders OrderRepository.find would select for ``query`` (``limit`` + 1, newest first)."""
        ...

    async def search(self, tenant: UUID, where: OrderSearch, *, offset: int, limit: int) -> list[OrderView]:
        """The orders OrderRepository.search would select: an offset page, newest first."""
        ...

    async def one_shown(self, tenant: UUID, order_id: UUID, owner: Owner) -> ShownOrder | None:
        """``one``, with the order's customer's row (None for an order without one) in the same statement."""
        ...

    async def search_shown(
        self, tenant: UUID, where: OrderSearch, *, offset: int, limit: int
    ) -> tuple[list[ShownOrder], int]:
        """``search``, each order with its customer's row, and how many orders ``where`` matches in all (what
        OrderRepository.count counts), read in the same statement: one round trip, one snapshot."""
        ...
