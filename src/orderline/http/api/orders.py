"""Order routes: /v1/orders — place, read, list and cancel."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, cast
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, HeaderParameter
from litestar.response import Response

from orderline.application.errors import InvalidInput
from orderline.application.idempotency import KeyClaim
from orderline.application.orders import CancelOrder, LineRequest, OrderFilter, PlacedOrder, PlaceOrder
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.address import COUNTRY, Address
from orderline.domain.order import MAX_LINES, MAX_QUANTITY, CancelReason, Order
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus
from orderline.domain.voucher import CODE_PATTERN
from orderline.http.access import needs, public
from orderline.http.api.examples import (
    CANCEL_EXAMPLE,
    CANCEL_PENDING_EXAMPLE,
    ORDER_EXAMPLE,
    ORDER_PAGE_EXAMPLE,
    PLACE_EXAMPLES,
    PLACED_EXAMPLE,
)
from orderline.http.api.wire import (
    CreatedAfter,
    CreatedBefore,
    CurrencyCode,
    Cursor,
    DecimalString,
    Limit,
    PageOut,
    PetId,
)
from orderline.http.dependencies import Caller, Injected
from orderline.http.document import absent, all_of, present
from orderline.http.idempotency import IdempotencyKey, idempotent
from orderline.http.openapi import body_examples, problems, success
from orderline.http.wire import NOT_BLANK, in_utc

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

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            id=order.id,
            number=order.number,
            pet_id=order.lines[0].pet_id,
            user_id=order.customer_id,
            status=order.status,
            total_amount=str(order.total),
            currency=order.currency,
            items=[
                LineOut(line.id, line.pet_id, line.name, str(line.unit_price), line.quantity, str(line.amount))
                for line in order.lines
            ],
            note=order.note,
            subtotal_amount=str(order.subtotal),
            discount_amount=str(order.discount_total),
            voucher_code=order.voucher_code,
            billing_address=AddressOut.of(order.billing_address),
            payment_status=order.payment_status,
            paid_amount=str(order.payment_summary.captured),
            refunded_amount=str(order.payment_summary.refunded),
            paid_at=order.paid_at,
            cancel_reason=order.cancel_reason,
            cancel_note=order.cancel_note,
            cancel_requested_at=order.cancel_requested_at,
            cancelled_at=order.cancelled_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            version=order.version,
        )


class PlacedOrderOut(OrderOut, kw_only=True):
    """The order as placed; an anonymous order also carries its bearer token, shown this once."""

    order_token: str | None

    @classmethod
    def placed(cls, placed: PlacedOrder) -> PlacedOrderOut:
        return cls(**msgspec.structs.asdict(OrderOut.of(placed.order)), order_token=placed.order_token)


def etag(order: Order) -> str:
    return f'"{order.id}.{order.version}"'


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


_ETAG_VERSION = re.compile(r"[1-9][0-9]{0,9}")  # a version is a positive 32-bit INTEGER (1 to 2147483647)

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match", max_length=256, description="an ETag from reading the order: refuse (412) if it changed since"
    ),
]


def version_in(if_match: str | None, order_id: UUID) -> int | None:
    """The version an If-Match names: None for no header or ``*``; 0, which never matches, for anything else
    (a header is Latin-1, so "²" is a digit to ``str.isdigit`` but not a number; only ASCII digits count)."""
    if if_match is None or if_match.strip() == "*":
        return None
    prefix, _, version = if_match.strip().removeprefix("W/").strip('"').rpartition(".")
    if prefix != str(order_id) or not _ETAG_VERSION.fullmatch(version):
        return 0
    return int(version)


class OrderController(Controller):
    path = "/orders"
    tags = ("Store",)

    @post(
        "/",
        **public(),
        operation_id="createOrder",
        summary="Create Order",
        description="Places an order in PLACED status; anonymous callers are allowed. The total is "
        "computed from catalogue prices and the stock is reserved at once.",
        responses={
            **success(201, PlacedOrderOut, PLACED_EXAMPLE, "the order was placed"),
            **problems("pet-not-found", "out-of-stock", "unauthorized", "currency-mismatch", "idempotency-key-reused",
                       "voucher-not-applicable", "invalid-address",
                       "idempotency-key-in-use",
                       "invalid-order", "total-mismatch", "unknown-currency", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def create(
        self,
        data: Annotated[OrderIn, Body(examples=body_examples(**PLACE_EXAMPLES))],
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        def answer(placed: PlacedOrder) -> Response[Any]:
            headers = {"Location": f"/v1/orders/{placed.order.id}", "ETag": etag(placed.order)}
            return Response(PlacedOrderOut.placed(placed), status_code=201, headers=headers)

        async def place(claim: KeyClaim[PlacedOrder] | None) -> PlacedOrder:
            return await use_cases.orders.place(principal, data.command(), claim=claim)

        return await idempotent(request, use_cases, idempotency_key, place, answer)

    @get(
        "/{order_id:uuid}",
        **needs(Scope.READ_ORDERS),
        operation_id="getOrder",
        summary="Get Order",
        responses={
            **success(200, OrderOut, ORDER_EXAMPLE, "the order, with its ETag"),
            **problems("not-found", "unauthorized", "forbidden"),
        },
    )
    async def read(
        self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller
    ) -> Response[OrderOut]:
        order = await use_cases.orders.get(principal, order_id)
        return Response(OrderOut.of(order), headers={"ETag": etag(order)})

    @get(
        "/",
        **needs(Scope.READ_ORDERS),
        operation_id="listOrders",
        summary="List Orders",
        description="Newest first, keyset-paginated: pass nextCursor back as cursor.",
        responses={
            **success(200, PageOut[OrderOut], ORDER_PAGE_EXAMPLE, "a page of orders"),
            **problems("unauthorized", "forbidden"),
        },
    )
    async def list(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        status: FromQuery[OrderStatus | None] = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[OrderOut]:
        where = OrderFilter(status, in_utc(created_after, "createdAfter"), in_utc(created_before, "createdBefore"))
        page = await use_cases.orders.list(principal, where, limit=limit, cursor=cursor)
        return PageOut([OrderOut.of(order) for order in page.items], page.next_cursor)

    @delete(
        "/{order_id:uuid}",
        **needs(Scope.WRITE_ORDERS),
        operation_id="cancelOrder",
        summary="Cancel Order",
        description="Cancels a PLACED or APPROVED order (reason CUSTOMER_REQUEST): 204 once it is CANCELLED, "
        "its stock released and any payment refunded; 202 with the order while an asynchronous refund is "
        "pending (CANCEL_PENDING). The order is kept.",
        responses={
            204: ResponseSpec(None, description="the order is cancelled; a replayed request says so again"),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, "the cancel waits for the refund (CANCEL_PENDING)"),
            **problems(
                "not-found",
                "order-not-cancellable",
                "precondition-failed",
                "unauthorized",
                "forbidden",
                "idempotency-key-reused",
                "idempotency-key-in-use",
            ),
        },
    )
    async def cancel_by_delete(
        self,
        order_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[None]:
        async def cancel(claim: KeyClaim[Order] | None) -> Order:
            command = CancelOrder(order_id, expected_version=version_in(if_match, order_id))
            return await use_cases.orders.cancel(principal, command, claim=claim)

        def answer(order: Order) -> Response[Any]:
            return cancel_answer(order, cancelled_status=204)

        # Annotated as bodiless for Litestar, as a 204 (also when replayed) carries nothing; a 202 has the order.
        return cast(Response[None], await idempotent(request, use_cases, idempotency_key, cancel, answer))

    @post(
        "/{order_id:uuid}/cancel",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="cancelOrderWithReason",
        summary="Cancel Order with a reason",
        description="Cancels a PLACED or APPROVED order with a reason: 200 once it is CANCELLED (stock released, "
        "payment refunded), 202 while an asynchronous refund is pending (CANCEL_PENDING). Cancelling a "
        "CANCEL_PENDING order answers 202 again and starts nothing new.",
        responses={
            **success(200, OrderOut, CANCEL_EXAMPLE, "the cancelled order"),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, "the cancel waits for the refund (CANCEL_PENDING)"),
            **problems("not-found", "order-not-cancellable", "precondition-failed", "unauthorized", "forbidden",
                       "idempotency-key-reused", "idempotency-key-in-use", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def cancel(
        self,
        order_id: FromPath[UUID],
        data: Annotated[
            CancelIn,
            Body(examples=body_examples(duplicate={"reason": "DUPLICATE", "note": "placed twice"})),
        ],
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        async def cancel(claim: KeyClaim[Order] | None) -> Order:
            command = CancelOrder(order_id, data.reason, data.note, version_in(if_match, order_id))
            return await use_cases.orders.cancel(principal, command, claim=claim)

        return await idempotent(request, use_cases, idempotency_key, cancel, cancel_answer)

    @post(
        "/{order_id:uuid}/erase",
        **needs(Scope.WRITE_ORDERS),
        status_code=204,
        operation_id="eraseOwnOrder",
        summary="Erase your own order (hard delete)",
        description="Where the shop allows it (ORDERLINE_CUSTOMER_ERASURE=true), a customer erases their own "
        "order as an admin would: lines removed, reserved stock released, voucher use given back, billing "
        "address kept, an audit tombstone left. Otherwise 403. A repeat is 404.",
        responses=problems("not-found", "unauthorized", "forbidden"),
    )
    async def erase(self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.orders.erase(principal, order_id)
