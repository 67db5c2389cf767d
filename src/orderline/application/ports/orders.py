"""Orders: the repository, the read model and its views, order tokens and callbacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orderline.application.ports.access import ApiKey, TokenHolder, UserStanding
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.domain.address import Address
from orderline.domain.order import Order
from orderline.domain.pet import Species
from orderline.domain.status import OrderStatus


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


class OrderTokenRepository(Protocol):
    async def add(self, order_id: UUID, token_hash: str) -> None: ...
    async def order_of(self, token_hash: str) -> TokenHolder | None:
        """The order a token opens, whichever tenant it is in (the token is how its tenant is learnt)."""
        ...


@dataclass(frozen=True, slots=True)
class OrderCallback:
    """An order's one-off callback (the Pet Store's ``orderProcessed``): a webhook subscription bound to one order."""

    id: UUID
    order_id: UUID
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


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


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """One order of ``tenant`` read in the statement that read the request's credential (ADR 0049), before anyone
    knew whether the caller may see it: ``view`` is None when the tenant has no such order, ``customer`` is the
    order's customer's row when read for a shown order. Whose it is (``ownership.shows``) is decided after."""

    tenant: UUID
    order_id: UUID
    view: OrderView | None
    placed_by_key: UUID | None = None
    customer: CustomerView | None = None


@dataclass(frozen=True, slots=True)
class OrderAhead:
    """Which order to read ahead with a credential: by id, and with its customer (a shown order) or not."""

    order_id: UUID
    shown: bool = False


@dataclass(frozen=True, slots=True)
class PageAhead:
    """Which page of the caller's own orders to read ahead with a signed-in user's credential (ADR 0049): the
    list's status, page size and cursor as the request sent them (a list with time bounds reads nothing ahead)."""

    status: OrderStatus | None
    limit: int
    cursor: str | None


@dataclass(frozen=True, slots=True)
class PageRead:
    """The page of ``query`` of ``tenant``, read in the statement that read the user's standing (ADR 0049)."""

    tenant: UUID
    query: OrderQuery
    views: list[OrderView]


Ahead = OrderAhead | PageAhead  # what a route may have read ahead with its credential
Read = ReadAhead | PageRead  # what was read ahead


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

    async def ahead_of_user(
        self, tenant: UUID, user_id: UUID, ahead: OrderAhead
    ) -> tuple[UserStanding | None, ReadAhead | None]:
        """The user's standing in ``tenant`` and the order ``ahead`` names, of ``tenant``, in one statement: one
        round trip, one snapshot (ADR 0049). No standing (no such user): no read ahead either."""
        ...

    async def page_ahead_of_user(
        self, tenant: UUID, user_id: UUID, query: OrderQuery
    ) -> tuple[UserStanding | None, list[OrderView] | None]:
        """The user's standing in ``tenant`` and the page ``page`` would read for ``query``, in one statement (ADR
        0049). No standing: no page either."""
        ...

    async def ahead_of_key(
        self, key_hash: str, requested: UUID, ahead: OrderAhead
    ) -> tuple[ApiKey | None, ReadAhead | None]:
        """The API key of this hash and the order ``ahead`` names, in the key's tenant (``requested`` for a key
        bound to none), in one statement (ADR 0049). No key: no read ahead either."""
        ...
