"""The native order's wire shapes: what placing, cancelling and editing read, what every order route answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Self
from uuid import UUID

import msgspec
from litestar.response import Response

from orderline.application.errors import InvalidInput
from orderline.application.orders import LineRequest, PlacedOrder, PlaceOrder
from orderline.application.ports import OrderView
from orderline.domain.address import COUNTRY, Address
from orderline.domain.money import decimal_string
from orderline.domain.order import MAX_LINES, MAX_QUANTITY, CancelReason, Order
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus
from orderline.domain.voucher import CODE_PATTERN
from orderline.http.api.wire import (
    CurrencyCode,
    DecimalString,
    PetId,
)
from orderline.http.document import absent, all_of, present
from orderline.http.preconditions import etag
from orderline.http.wire import NOT_BLANK

Quantity = Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
VoucherCode = Annotated[str, msgspec.Meta(pattern=CODE_PATTERN, description="a voucher code, in any case")]
# Ignored, as ADR 0006 says; declared so that they are accepted while every other unknown field is refused.
_LEGACY = "a legacy Pet Store field: accepted and ignored (ADR 0006); a new order is always PLACED"

# The domain checks an address (something in each required line, a country code) and answers invalid-address
# naming the field; the document states the same rules.
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema={"pattern": NOT_BLANK})]
City = Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema={"pattern": NOT_BLANK})]
PostalCode = Annotated[str, msgspec.Meta(min_length=1, max_length=20, extra_json_schema={"pattern": NOT_BLANK})]
Country = Annotated[
    str,
    msgspec.Meta(max_length=2, description="ISO 3166-1 alpha-2, such as GB", extra_json_schema={"pattern": COUNTRY}),
]


class ItemIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    pet_id: PetId
    quantity: Quantity = 1


class AddressIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    line1: Line
    line2: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    city: City
    state: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    postal_code: PostalCode
    country: Country

    def address(self) -> Address:
        return Address(self.line1, self.city, self.postal_code, self.country, self.line2, self.state)


class AddressOut(msgspec.Struct, rename="camel"):
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str

    @classmethod
    def of(cls, address: Address | None) -> AddressOut | None:
        if address is None:
            return None
        return cls(address.line1, address.line2, address.city, address.state, address.postal_code, address.country)


class OrderIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """``{petId, quantity}`` or ``{items}``. The legacy Pet Store fields status, shipDate and complete are
    accepted and ignored (ADR 0006); any other field is refused."""

    pet_id: PetId | None = None
    quantity: Quantity | msgspec.UnsetType = msgspec.UNSET
    items: Annotated[list[ItemIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)] | None = None
    currency: CurrencyCode | None = None
    total_amount: DecimalString | None = None
    note: Note | None = None
    voucher_code: VoucherCode | None = None
    billing_address: AddressIn | None = None
    status: Annotated[str, msgspec.Meta(max_length=32, description=_LEGACY)] | None = None
    ship_date: Annotated[str, msgspec.Meta(max_length=64, description=_LEGACY)] | None = None
    complete: Annotated[bool, msgspec.Meta(description=_LEGACY)] | None = None

    openapi_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            all_of(present("petId"), absent("items")),
            all_of(present("items"), absent("petId"), absent("quantity")),
        ]
    }

    def command(self) -> PlaceOrder:
        if (self.pet_id is None) == (self.items is None):
            problem = "not both" if self.items is not None else "one of them is required"
            raise InvalidInput("petId", f"send petId (with quantity) or items: {problem}", "required")
        if self.items is not None and self.quantity is not msgspec.UNSET:
            raise InvalidInput("quantity", "with items, each item carries its own quantity", "invalid")
        quantity = 1 if self.quantity is msgspec.UNSET else self.quantity
        items = self.items or [ItemIn(self.pet_id, quantity)]  # type: ignore[arg-type]
        lines = [LineRequest(item.pet_id, item.quantity) for item in items]
        address = None if self.billing_address is None else self.billing_address.address()
        return PlaceOrder(lines, self.currency, self.note, self.total_amount, self.voucher_code, address)


class CancelIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    reason: CancelReason
    note: Note | None = None


class LineOut(msgspec.Struct, rename="camel"):
    id: Annotated[int, msgspec.Meta(description="the item's id within its order: 1, 2, 3 …, never reused")]
    pet_id: UUID
    name: str
    unit_price: str
    quantity: int
    amount: str


class OrderOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    number: str
    pet_id: UUID
    user_id: UUID | None
    status: OrderStatus
    total_amount: str
    currency: str
    items: list[LineOut]
    note: str | None
    subtotal_amount: str
    discount_amount: str
    voucher_code: str | None
    billing_address: AddressOut | None
    payment_status: OrderPaymentStatus
    paid_amount: Annotated[str, msgspec.Meta(description="what the order's payments captured (refunds or not)")]
    refunded_amount: Annotated[str, msgspec.Meta(description="what refunds of the order gave back (succeeded)")]
    paid_at: datetime | None
    cancel_reason: CancelReason | None
    cancel_note: str | None
    cancel_requested_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    tenant_id: Annotated[
        UUID | None, msgspec.Meta(description="the tenant (X-Tenant-ID) the order belongs to; null: the public pool")
    ]

    @classmethod
    def of(cls, order: Order, **extra: Any) -> Self:
        """The order's body; ``extra``: a subclass's own fields. Amounts are written by ``decimal_string`` straight
        from their minor units, as ``str(Money)`` would (ADR 0046: a call each fewer, a Money per line fewer)."""
        paid = order.payment_summary
        return cls(
            id=order.id,
            number=order.number,
            pet_id=order.lines[0].pet_id,
            user_id=order.customer_id,
            status=order.status,
            total_amount=decimal_string(order.total.amount_minor, order.total.currency),
            currency=order.currency,
            items=[
                LineOut(
                    line.id,
                    line.pet_id,
                    line.name,
                    decimal_string(line.unit_price.amount_minor, line.unit_price.currency),
                    line.quantity,
                    decimal_string(line.unit_price.amount_minor * line.quantity, line.unit_price.currency),
                )
                for line in order.lines
            ],
            note=order.note,
            subtotal_amount=decimal_string(order.subtotal.amount_minor, order.subtotal.currency),
            discount_amount=decimal_string(order.discount_total.amount_minor, order.discount_total.currency),
            voucher_code=order.voucher_code,
            billing_address=AddressOut.of(order.billing_address),
            payment_status=paid.status,
            paid_amount=decimal_string(paid.captured.amount_minor, paid.captured.currency),
            refunded_amount=decimal_string(paid.refunded.amount_minor, paid.refunded.currency),
            paid_at=order.paid_at,
            cancel_reason=order.cancel_reason,
            cancel_note=order.cancel_note,
            cancel_requested_at=order.cancel_requested_at,
            cancelled_at=order.cancelled_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            version=order.version,
            tenant_id=order.tenant_id,
            **extra,
        )


def viewed(view: OrderView) -> OrderOut:
    """The order as the read model decoded it (ADR 0033): the same body ``OrderOut.of`` gives for its Order,
    converted field by field in C (``from_attributes``), with no domain object in between."""
    return msgspec.convert(view, OrderOut, from_attributes=True)


class PlacedOrderOut(OrderOut, kw_only=True):
    """The order as placed; an anonymous order also carries its bearer token, shown this once."""

    order_token: str | None

    @classmethod
    def placed(cls, placed: PlacedOrder) -> PlacedOrderOut:
        return cls.of(placed.order, order_token=placed.order_token)


def cancel_answer(order: Order, *, cancelled_status: int = 200) -> Response[Any]:
    """A cancel's answer: the order (with its ETag), 202 while its refund is pending (CANCEL_PENDING).

    ``cancelled_status`` 204 answers a finished cancel with no body, as the DELETE route does.
    """
    headers = {"ETag": etag(order)}
    if order.status is OrderStatus.CANCEL_PENDING:
        return Response(OrderOut.of(order), status_code=202, headers=headers)
    if cancelled_status == 204:
        return Response(None, status_code=204, headers=headers)
    return Response(OrderOut.of(order), status_code=cancelled_status, headers=headers)
