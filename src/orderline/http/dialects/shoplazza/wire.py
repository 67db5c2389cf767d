"""Shoplazza's wire format: the snake_case Order with money as numeric strings, the list, the errors body.

Every field of the Order table of Shoplazza's Cancel Order page is here, in its order: those orderline can
fill are filled (nothing orderline charges for — tax, shipping, tips, gift cards, extra fees — is "0.00"),
and those it cannot are null (ADR 0024).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

from orderline.application.errors import InvalidInput
from orderline.domain.address import Address
from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus
from orderline.http.dialects.shoplazza.mapping import FinancialStatus, FulfillmentStatus, ShoplazzaStatus, shown

MAX_REASON = 2000  # as long as the native API's cancel note
PAID_BY_CARD = "credit_card"  # orderline takes payment by card only
_EVER_PAID = frozenset(OrderPaymentStatus) - {OrderPaymentStatus.UNPAID}

Reason = Annotated[str, msgspec.Meta(max_length=MAX_REASON, description="why the order is cancelled")]


class ShoplazzaCancelIn(msgspec.Struct, forbid_unknown_fields=True):
    """Cancel Order's body; every part of it is optional, and a field the page does not list is refused."""

    reason: Reason | None = None


class ShoplazzaLineItem(msgspec.Struct, kw_only=True):
    id: int
    product_id: str
    title: str
    price: str
    quantity: int
    total: str


class ShoplazzaCustomer(msgspec.Struct, kw_only=True):
    id: str
    email: None = None
    first_name: None = None
    last_name: None = None


class ShoplazzaAddress(msgspec.Struct, kw_only=True):
    first_name: None = None
    last_name: None = None
    company: None = None
    phone: None = None
    address1: str
    address2: str | None
    city: str
    province: str | None
    province_code: None = None
    country: None = None
    country_code: str
    zip: str

    @classmethod
    def of(cls, address: Address | None) -> ShoplazzaAddress | None:
        if address is None:
            return None
        return cls(address1=address.line1, address2=address.line2, city=address.city, province=address.state,
                   country_code=address.country, zip=address.postal_code)  # fmt: skip


class ShoplazzaPaymentLine(msgspec.Struct, kw_only=True):
    payment_method: str = PAID_BY_CARD
    payment_channel: None = None
    transaction_no: None = None


class ShoplazzaAdditionalPrice(msgspec.Struct):
    name: str
    price: str


class ShoplazzaOrder(msgspec.Struct, kw_only=True):
    id: str
    number: str
    note: str | None
    status: ShoplazzaStatus
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus
    email_status: None = None
    cancel_reason: str | None
    recovery_status: None = None
    payment_method: str | None
    discount_code: str | None
    discount_applications: None = None
    customer_note: None = None
    landing_site: None = None
    buyer_accepts_marketing: None = None
    currency: str
    total_price: str
    sub_total: str
    total_discount: str
    total_tax: str
    total_shipping: str
    code_discount_total: str
    line_item_discount_total: str
    gift_card_total: str
    total_refund_price: str  # what refunds that succeeded gave back
    total_refund_discount: None = None
    additional_total: str
    addtional_prices: list[ShoplazzaAdditionalPrice]  # sic: the page's spelling
    total_refund_tax: None = None
    shipping_tax_total: str
    customer_deleted_at: None = None
    created_at: datetime
    updated_at: datetime
    deleted_at: None = None
    canceled_at: datetime | None
    placed_at: datetime | None
    total_tip_received: str
    tags: None = None
    browser_ip: None = None
    last_landing_url: None = None
    total_paid: str  # what the customer's payments captured, refunds or not
    source: None = None
    source_name: None = None
    last_referrer_show: None = None
    shipping_line: None = None
    customer: ShoplazzaCustomer | None
    shipping_address: None = None
    billing_address: ShoplazzaAddress | None
    payment_line: ShoplazzaPaymentLine | None
    line_items: list[ShoplazzaLineItem]
    fulfillments: list[None]
    logistics_code: None = None
    refer_info: None = None
    config: None = None
    sales_platform: None = None
    checkout_url: None = None
    location_line: None = None
    invoice_url: None = None

    @classmethod
    def of(cls, order: Order) -> ShoplazzaOrder:
        seen = shown(order.status, order.payment_status)
        zero = str(Money.zero(order.currency))
        paid = order.payment_status in _EVER_PAID
        return cls(
            id=str(order.id),
            number=order.number,
            note=order.note,
            status=seen.status,
            financial_status=seen.financial_status,
            fulfillment_status=seen.fulfillment_status,
            cancel_reason=_cancel_reason(order),
            payment_method=PAID_BY_CARD if paid else None,
            discount_code=order.voucher_code,
            currency=order.currency,
            total_price=str(order.total),
            sub_total=str(order.subtotal),
            total_discount=str(order.discount_total),
            total_tax=zero,
            total_shipping=zero,
            code_discount_total=str(order.discount_total),  # a voucher code is the only discount there is
            line_item_discount_total=str(order.discount_total),
            gift_card_total=zero,
            total_refund_price=str(order.payment_summary.refunded),
            additional_total=zero,
            addtional_prices=[],
            shipping_tax_total=zero,
            created_at=order.created_at,
            updated_at=order.updated_at,
            canceled_at=order.cancel_requested_at or order.cancelled_at,  # when it was cancelled, refund or not
            placed_at=order.paid_at,
            total_tip_received=zero,
            total_paid=str(order.payment_summary.captured),
            customer=None if order.customer_id is None else ShoplazzaCustomer(id=str(order.customer_id)),
            billing_address=ShoplazzaAddress.of(order.billing_address),
            payment_line=ShoplazzaPaymentLine() if paid else None,
            line_items=[
                ShoplazzaLineItem(
                    id=line.id,
                    product_id=str(line.pet_id),
                    title=line.name,
                    price=str(line.unit_price),
                    quantity=line.quantity,
                    total=str(line.amount),
                )
                for line in order.lines
            ],
            fulfillments=[],
        )


def _cancel_reason(order: Order) -> str | None:
    """The reason as it was given (a Shoplazza client's text is kept as the cancel note), else its code."""
    if order.status not in (OrderStatus.CANCEL_PENDING, OrderStatus.CANCELLED) or order.cancel_reason is None:
        return None
    return order.cancel_note or order.cancel_reason.value.lower().replace("_", " ")


class ShoplazzaOrderList(msgspec.Struct):
    count: int  # how many orders match the filters, over every page
    orders: list[ShoplazzaOrder]


class ShoplazzaCount(msgspec.Struct):
    count: int


class ShoplazzaDeleted(msgspec.Struct):
    message: str


class ShoplazzaErrors(msgspec.Struct):
    """Shoplazza's error body: what went wrong, as a list of messages."""

    errors: list[str]


def utc(moment: datetime | None, field: str, *, inclusive_end: bool = False) -> datetime | None:
    """A client's time in UTC (an ``*_max`` bound made inclusive); one whose UTC form leaves years 1 to 9999 is a
    422, and an inclusive end at the calendar's last instant bounds nothing."""
    if moment is None:
        return None
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            field, "must be a time whose UTC form lies in the years 0001 to 9999", "out-of-range"
        ) from None
    if not inclusive_end:
        return in_utc
    try:
        return in_utc + timedelta(microseconds=1)
    except OverflowError:
        return None
