"""Examples for the document: a cancelled, refunded order rendered by the very struct the routes answer with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from orderline.domain.address import Address
from orderline.domain.money import Money
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.payment import OrderPaymentStatus, PaymentSummary
from orderline.domain.status import OrderStatus
from orderline.http.dialects.shoplazza.wire import ShoplazzaOrder

_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_FEE = Money.parse("150.00", "USD")


def _order() -> Order:
    return Order(
        id=UUID("019b4139-1234-7abc-8def-123456789abc"),
        seq=12,
        customer_id=UUID("019b4130-0000-7000-8000-00000000a11c"),
        lines=(OrderLine(UUID("019b4132-70aa-764f-b315-e2803d882a24"), "Nemo", _FEE, 1, id=1),),
        currency="USD",
        subtotal=_FEE,
        discount_total=Money.zero("USD"),
        total=_FEE,
        note=None,
        status=OrderStatus.CANCELLED,
        created_at=_AT,
        updated_at=_AT,
        payment_summary=PaymentSummary(OrderPaymentStatus.REFUNDED, captured=_FEE, refunded=_FEE),
        cancel_reason=CancelReason.OTHER,
        cancel_note="Customer changed their mind",
        cancelled_at=_AT,
        cancel_requested_at=_AT,
        paid_at=_AT,
        billing_address=Address("1 High Street", "London", "SW1A 1AA", "GB"),
        version=4,
    )


ORDER_EXAMPLE: dict[str, Any] = msgspec.to_builtins(ShoplazzaOrder.of(_order()))
LIST_EXAMPLE: dict[str, Any] = {"count": 1, "orders": [ORDER_EXAMPLE]}
COUNT_EXAMPLE: dict[str, Any] = {"count": 1}
CANCEL_BODY_EXAMPLE: dict[str, Any] = {"reason": "Customer changed their mind"}
