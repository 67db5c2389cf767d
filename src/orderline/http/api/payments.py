"""Payment routes: Pay Order (/v1/orders/{id}/payment), an order's payments, and the gateway's callbacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Body, FromPath
from litestar.response import Response

from orderline.application.idempotency import KeyClaim
from orderline.application.payments import PayOrder
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.payment import Card, CardInput, Payment, PaymentStatus, Refund, RefundStatus
from orderline.http.access import needs, public
from orderline.http.answer import JsonAnswer
from orderline.http.api.examples import (
    ORDER_ID,
    PAYMENT_EXAMPLE,
    PAYMENT_IN_EXAMPLE,
    REFUND_CALLBACK_EXAMPLE,
    REFUND_ID,
)
from orderline.http.api.wire import CurrencyCode, Cursor, DecimalString, Limit, PageOut
from orderline.http.dependencies import Caller, Injected, caller_of, use_cases_of
from orderline.http.idempotency import IdempotencyKey, idempotent
from orderline.http.openapi import body_examples, problems, success
from orderline.http.preconditions import IfMatch, version_in

Text = Annotated[str, msgspec.Meta(max_length=200)]


# The domain checks the card (digits, Luhn, expiry) and answers one clear `invalid-card` naming the field; the
# document states the same shape. A Luhn failure, or a card that has expired, stays a refusal of its own.
CardNumber = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="12 to 19 digits that pass the Luhn check; write-only, shown masked",
        examples=["4242424242424242"],
        extra_json_schema={"pattern": "^[0-9]{12,19}$"},
    ),
]
Cvc = Annotated[
    str,
    msgspec.Meta(
        max_length=16,
        description="3 or 4 digits; write-only, never shown",
        examples=["123"],
        extra_json_schema={"pattern": "^[0-9]{3,4}$"},
    ),
]


class CardIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A card as the Pet Store's OrderPayment ``source``. The number and CVC go to the gateway only."""

    object: Literal["card"] = "card"
    name: Text | None = None
    number: CardNumber
    cvc: Cvc
    exp_month: Annotated[int, msgspec.Meta(examples=[12], extra_json_schema={"minimum": 1, "maximum": 12})]
    exp_year: Annotated[int, msgspec.Meta(ge=2000, le=2099, description="four digits, not yet past", examples=[2030])]
    address_line1: Text | None = None
    address_line2: Text | None = None
    address_city: Text | None = None
    address_country: (
        Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$(?!\n)", description="ISO 3166-1 alpha-2")] | None
    ) = None
    address_post_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None

    def input(self) -> CardInput:
        holder = {
            "name": self.name,
            "address_line1": self.address_line1,
            "address_line2": self.address_line2,
            "address_city": self.address_city,
            "address_country": self.address_country,
            "address_post_code": self.address_post_code,
        }
        return CardInput(self.number, self.cvc, self.exp_month, self.exp_year, holder)


class PaymentIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    amount: DecimalString
    currency: CurrencyCode = "USD"
    source: CardIn

    def fingerprint(self) -> bytes:
        """What makes two payment requests the same, for Idempotency-Key: never the number or CVC,
        whose unsalted hash could be reversed by trying every card number."""
        card = self.source
        fields = (self.amount, self.currency, card.number[-4:], card.exp_month, card.exp_year, card.name)
        return msgspec.json.encode(fields)


class CardOut(msgspec.Struct, rename="camel", kw_only=True):
    object: Literal["card"] = "card"
    name: str | None
    number: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    address_line1: str | None
    address_line2: str | None
    address_city: str | None
    address_country: str | None
    address_post_code: str | None

    @classmethod
    def of(cls, card: Card) -> CardOut:
        return cls(
            name=card.name,
            number=card.masked,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            address_line1=card.address_line1,
            address_line2=card.address_line2,
            address_city=card.address_city,
            address_country=card.address_country,
            address_post_code=card.address_post_code,
        )


class RefundOfPaymentOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    amount: str
    currency: str
    status: RefundStatus
    reference: str | None  # the gateway's id of the refund, which its callbacks name
    failure_message: str | None
    requested_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, refund: Refund) -> RefundOfPaymentOut:
        return cls(
            id=refund.id,
            amount=str(refund.amount),
            currency=refund.amount.currency,
            status=refund.status,
            reference=refund.reference,
            failure_message=refund.failure_message,
            requested_at=refund.requested_at,
            settled_at=refund.settled_at,
        )


class PaymentOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    order_id: UUID
    amount: str
    currency: str
    status: PaymentStatus
    source: CardOut
    gateway: str
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    refunds: list[RefundOfPaymentOut]

    @classmethod
    def of(cls, payment: Payment, refunds: Sequence[Refund] = ()) -> PaymentOut:
        return cls(
            id=payment.id,
            order_id=payment.order_id,
            amount=str(payment.amount),
            currency=payment.amount.currency,
            status=payment.status,
            source=CardOut.of(payment.card),
            gateway=payment.gateway,
            failure_code=payment.failure_code,
            failure_message=payment.failure_message,
            created_at=payment.created_at,
            refunds=[RefundOfPaymentOut.of(refund) for refund in refunds],
        )


class RefundOut(msgspec.Struct, rename="camel"):
    refund_id: UUID
    order_id: UUID
    status: RefundStatus


class PaymentController(Controller):
    path = "/orders/{order_id:uuid}"
    tags = ("Store",)

    @post(
        "/payment",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="payOrder",
        summary="Pay Order",
        description="Charges the order's total to a card, synchronously. SUCCEEDED moves the order to APPROVED; "
        "a declined card is 402 `payment-declined` naming the FAILED payment, the order stays PLACED and "
        "the client may retry. The built-in test gateway's cards choose the outcome (docs/payments.md).",
        responses={
            **success(200, PaymentOut, PAYMENT_EXAMPLE, "the payment, SUCCEEDED; the card number masked"),
            **problems("payment-declined", "order-not-payable", "payment-in-progress", "payment-mismatch",
                       "invalid-card", "invalid-amount", "unknown-currency", "not-found", "precondition-failed",
                       "unauthorized", "forbidden", "idempotency-key-reused", "idempotency-key-in-use",
                       "unsupported-media-type"),
        },
    )  # fmt: skip
    async def pay(
        self,
        order_id: FromPath[UUID],
        data: Annotated[PaymentIn, Body(examples=body_examples(card=PAYMENT_IN_EXAMPLE))],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        return await pay_order(request, order_id, data, if_match, idempotency_key)

    @get(
        "/payments",
        **needs(Scope.READ_ORDERS),
        operation_id="listOrderPayments",
        summary="List an order's payments",
        description="Every payment attempt of the order, oldest first: the receipt of a SUCCEEDED one with "
        "its refunds (and the gateway's refund reference), and the FAILED ones with the gateway's reason. "
        "Keyset-paginated like every list: pass nextCursor back as cursor.",
        responses={
            **success(200, PageOut[PaymentOut], {"data": [PAYMENT_EXAMPLE], "nextCursor": None},
                      "a page of the order's payments"),
            **problems("not-found", "unauthorized", "forbidden"),
        },
    )  # fmt: skip
    async def list_payments(
        self,
        order_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[PaymentOut]:
        page = await use_cases.payments.of_order(principal, order_id, limit=limit, cursor=cursor)
        return PageOut([PaymentOut.of(record.payment, record.refunds) for record in page.items], page.next_cursor)


async def pay_order(
    request: Request[Any, Any, Any],
    order_id: UUID,
    data: PaymentIn,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[Any]:
    """Pay Order's work: the route calls it after Litestar parsed its parameters, the hot router
    (http/hot_routes.py) after parsing them itself."""
    use_cases, principal = use_cases_of(request), await caller_of(request)  # a hot route: not injected

    async def pay(claim: KeyClaim[Payment] | None) -> Payment:
        expected_version = version_in(if_match, order_id)
        command = PayOrder(order_id, data.amount, data.currency, data.source.input(), expected_version)
        return await use_cases.payments.pay(principal, command, claim=claim)

    def answer(payment: Payment) -> Response[Any]:
        return JsonAnswer(PaymentOut.of(payment))

    return await idempotent(request, use_cases, idempotency_key, pay, answer, fingerprint=data.fingerprint())


@post(
    "/gateway/callbacks",
    **public(),
    status_code=200,
    operation_id="gatewayCallback",
    summary="Payment gateway callback",
    tags=("Payments",),
    description="Where the payment gateway reports that a refund has moved, signed as a Standard Webhook "
    "(webhook-id, webhook-timestamp, webhook-signature). The claim is checked with the gateway itself "
    "before anything changes; a pending refund is also polled, so a lost callback delays nothing for long.",
    responses={
        **success(200, RefundOut, {"refundId": REFUND_ID, "orderId": ORDER_ID,
                                   "status": "SUCCEEDED"}, "the refund as it now stands"),
        **problems("invalid-signature", "not-found", "unsupported-media-type"),
    },
)  # fmt: skip
async def gateway_callback(
    request: Request[Any, Any, Any],
    use_cases: Injected[UseCases],
    data: Annotated[dict[str, Any], Body(examples=body_examples(refund=REFUND_CALLBACK_EXAMPLE))],
) -> RefundOut:
    del data  # the signature covers the raw bytes, so those are what is read
    refund = await use_cases.refunds.on_callback(dict(request.headers), await request.body())
    return RefundOut(refund.id, refund.order_id, refund.status)
