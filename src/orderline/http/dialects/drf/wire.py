"""The DRF shop's bodies: simplejwt's token pair, the original ``OrderSerializer``, its address and its pages.

Fields a client sends that these do not name are ignored, as a DRF serializer ignores them (a client that
PUTs back the order it read sends ``id``, ``url``, ``items`` and the rest); every field they name is read
strictly (ADR 0026).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import msgspec

from orderline.application.errors import InvalidInput
from orderline.application.ports import AddressView, CustomerView, OrderView, ShownOrder
from orderline.domain.address import COUNTRY, Address
from orderline.domain.money import decimal_string
from orderline.domain.order import Order, OrderLine
from orderline.http.dialects.drf.mapping import STATUS_OF, DrfStatus
from orderline.http.document import absent, all_of, present
from orderline.http.wire import NOT_BLANK

ORDERS_PATH = "/i/orders/"  # under the mount, with the original's trailing slash
# What the document says of the fields a body may carry beside its own: any JSON without U+0000, which no
# body may hold (http/content_type.py); they are read and ignored.
IGNORED_EXTRAS = {
    "propertyNames": {"not": {"pattern": "\\x00"}},
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
}
PAGE_SIZE = 10  # the original's REST_FRAMEWORK["PAGE_SIZE"]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema={"pattern": NOT_BLANK})]
PostalCode = (
    Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647, description="as the original's PositiveIntegerField")]
    | Annotated[str, msgspec.Meta(min_length=1, max_length=20, extra_json_schema={"pattern": NOT_BLANK})]
)
Country = Annotated[
    str,
    msgspec.Meta(max_length=2, description="ISO 3166-1 alpha-2, such as CA", extra_json_schema={"pattern": COUNTRY}),
]


class DrfTokenIn(msgspec.Struct, kw_only=True):
    """simplejwt's TokenObtainPairView body, with orderline's username (the original signs in by email)."""

    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]

    openapi_rules: ClassVar[dict[str, Any]] = IGNORED_EXTRAS


class DrfTokenPairOut(msgspec.Struct, kw_only=True):
    refresh: str
    access: str


class DrfRefreshIn(msgspec.Struct, kw_only=True):
    refresh: Annotated[str, msgspec.Meta(max_length=4096)]

    openapi_rules: ClassVar[dict[str, Any]] = IGNORED_EXTRAS


class DrfAccessOut(msgspec.Struct, kw_only=True):
    access: str


class DrfAddressIn(msgspec.Struct, kw_only=True):
    """The original's ``AddressSerializer``: every field required; ``country`` is orderline's ISO code."""

    street_address: Text
    postal_code: PostalCode
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema={"pattern": NOT_BLANK})]
    state: Annotated[str, msgspec.Meta(max_length=100)]
    country: Country

    def address(self) -> Address:
        return Address(
            line1=self.street_address,
            city=self.city,
            postal_code=str(self.postal_code),
            country=self.country,
            state=self.state if self.state.strip() else None,
        )


class DrfBillingIn(msgspec.Struct, kw_only=True):
    """PUT's body: the serializer's ``billing_address``, or ``address`` as the original view reads it."""

    billing_address: DrfAddressIn | None = None
    address: DrfAddressIn | None = None

    openapi_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            all_of(present("billing_address"), absent("address")),
            all_of(present("address"), absent("billing_address")),
        ],
        **IGNORED_EXTRAS,
        # The nested address is no body of its own, so its rule is stated here.
        "allOf": [{"properties": {"billing_address": IGNORED_EXTRAS, "address": IGNORED_EXTRAS}}],
    }

    def new_address(self) -> Address:
        if self.billing_address is not None and self.address is not None:
            raise InvalidInput("non_field_errors", "Send billing_address or address, not both.")
        chosen = self.billing_address or self.address
        if chosen is None:
            raise InvalidInput("billing_address", "This field is required.", "required")
        return chosen.address()


class DrfAddressOut(msgspec.Struct, kw_only=True):
    street_address: str
    postal_code: int | str
    city: str
    state: str
    country: str

    @classmethod
    def of(cls, address: Address | AddressView | None) -> DrfAddressOut | None:
        if address is None:
            return None
        street = address.line1 if not address.line2 else f"{address.line1}, {address.line2}"
        return cls(
            street_address=street,
            postal_code=_postal_code(address.postal_code),
            city=address.city,
            state=address.state or "",
            country=address.country,
        )


def _postal_code(code: str) -> int | str:
    """An integer, as the original's PositiveIntegerField, when the code is one and reads back the same."""
    return int(code) if code.isascii() and code.isdigit() and str(int(code)) == code else code


class DrfCustomerOut(msgspec.Struct, kw_only=True):
    """The original's ``SimpleCustomerSerializer``."""

    email: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, customer: CustomerView | None) -> DrfCustomerOut | None:
        if customer is None:
            return None
        return cls(email=customer.email, first_name=customer.first_name or "", last_name=customer.last_name or "")


class DrfProductOut(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    category: str | None


class DrfItemOut(msgspec.Struct, kw_only=True):
    """The original's ``OrderItemSerializer``: a line; a pet is the product and its one variant."""

    id: int
    product: DrfProductOut
    created: datetime
    updated: datetime
    is_active: bool
    unit_price: str
    quantity: int
    shipping: str
    discount_amount: str
    total_price: str
    variant: UUID
    offer: int | None

    @classmethod
    def of(cls, line: OrderLine, order: Order) -> DrfItemOut:
        zero = _zero(order)
        return cls(
            id=line.id,
            product=DrfProductOut(id=line.pet_id, name=line.name, category=None),
            created=order.created_at,
            updated=order.updated_at,
            is_active=True,
            unit_price=str(line.unit_price),
            quantity=line.quantity,
            shipping=zero,
            discount_amount=zero,
            total_price=str(line.amount),
            variant=line.pet_id,
            offer=None,
        )


class DrfOrderOut(msgspec.Struct, kw_only=True):
    """The original's ``OrderSerializer``, money as decimal strings in the order's currency (ADR 0026)."""

    id: UUID
    url: str
    customer: DrfCustomerOut | None
    created: datetime
    updated: datetime
    billing_address: DrfAddressOut | None
    items: list[DrfItemOut]
    items_count: int
    savings_on_items: str
    status: DrfStatus
    subtotal: str
    amount_saved: str
    shipping: str
    total_amount: str

    @classmethod
    def of(cls, order: Order, customer: CustomerView | None, url: str) -> DrfOrderOut:
        zero = _zero(order)
        return cls(
            id=order.id,
            url=url,
            customer=DrfCustomerOut.of(customer),
            created=order.created_at,
            updated=order.updated_at,
            billing_address=DrfAddressOut.of(order.billing_address),
            items=[DrfItemOut.of(line, order) for line in order.lines],
            items_count=sum(line.quantity for line in order.lines),
            savings_on_items=zero,
            status=STATUS_OF[order.status],
            subtotal=str(order.subtotal),
            amount_saved=str(order.discount_total),
            shipping=zero,
            total_amount=str(order.total),
        )


def viewed(view: OrderView, customer: CustomerView | None, url: str) -> DrfOrderOut:
    """``DrfOrderOut.of`` for the read model's view of the order (ADR 0033): the same body, no domain Order."""
    return _viewed(view, DrfCustomerOut.of(customer), url)


def viewed_page(shown: list[ShownOrder], base: str) -> list[DrfOrderOut]:
    """``viewed`` for a page's orders, each at ``base`` + its id + "/": each customer's body built once."""
    customers: dict[UUID | None, DrfCustomerOut | None] = {}
    results = []
    for view, customer in shown:
        if view.user_id not in customers:
            customers[view.user_id] = DrfCustomerOut.of(customer)
        results.append(_viewed(view, customers[view.user_id], f"{base}{view.id}/"))
    return results


_ZEROS: dict[str, str] = {}  # "0.00" in each currency's decimals, as read
_SHOWN = {status.value: shown for status, shown in STATUS_OF.items()}  # by the stored value: no OrderStatus built


def _viewed(view: OrderView, customer: DrfCustomerOut | None, url: str) -> DrfOrderOut:
    zero = _ZEROS.get(view.currency) or _ZEROS.setdefault(view.currency, decimal_string(0, view.currency))
    created, updated = view.created_at, view.updated_at
    items = [
        DrfItemOut(id=line.id, product=DrfProductOut(id=line.pet_id, name=line.name, category=None),
                   created=created, updated=updated, is_active=True, unit_price=line.unit_price,
                   quantity=line.quantity, shipping=zero, discount_amount=zero, total_price=line.amount,
                   variant=line.pet_id, offer=None)
        for line in view.items
    ]  # fmt: skip
    return DrfOrderOut(
        id=view.id,
        url=url,
        customer=customer,
        created=created,
        updated=updated,
        billing_address=DrfAddressOut.of(view.billing_address),
        items=items,
        items_count=sum(line.quantity for line in view.items),
        savings_on_items=zero,
        status=_SHOWN[view.status],
        subtotal=view.subtotal_amount,
        amount_saved=view.discount_amount,
        shipping=zero,
        total_amount=view.total_amount,
    )


def _zero(order: Order) -> str:
    return str(order.total - order.total)  # "0.00" with the currency's own decimals


class DrfOrdersPage(msgspec.Struct, kw_only=True):
    """DRF's LimitOffsetPagination page."""

    count: int
    next: str | None
    previous: str | None
    results: list[DrfOrderOut]


class DrfDetailOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """DRF's ``{"detail": ...}``; simplejwt adds ``code`` and, refusing a request's token, ``messages``."""

    detail: str
    code: str | None = None
    messages: list[dict[str, str]] | None = None


def page_links(url: str, count: int, offset: int, limit: int) -> tuple[str | None, str | None]:
    """``next`` and ``previous`` as LimitOffsetPagination makes them from the request's absolute URL."""
    next_link = None if offset + limit >= count else _with(url, limit=limit, offset=offset + limit)
    if offset <= 0:
        return next_link, None
    previous = _with(url, limit=limit, offset=None if offset - limit <= 0 else offset - limit)
    return next_link, previous


def _with(url: str, *, limit: int, offset: int | None) -> str:
    """``url`` with limit and offset set (offset dropped when None), the query sorted as DRF writes it."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    pairs["limit"] = str(limit)
    pairs.pop("offset", None)
    if offset is not None:
        pairs["offset"] = str(offset)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(pairs.items())), fragment))
