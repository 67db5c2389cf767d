"""sFOX's wire shapes: the order object, the cancel answers, the error body; money as exact JSON numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Response
from litestar.params import KwargDefinition

from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.http.dialects.sfox.mapping import STATUSES

# sFOX writes amounts as JSON numbers; we write each one's exact decimal digits ("150.00" becomes 150.00),
# never through a float, so what a client reads is exactly what is stored (ADR 0025).
# (Litestar documents a Decimal as a string; schema_extra states what is written.)
Number = Annotated[Decimal, KwargDefinition(schema_extra={"type": "number"})]
NumberOrNull = Annotated[
    Decimal | None, KwargDefinition(schema_extra={"oneOf": [{"type": "number"}, {"type": "null"}]})
]
_ENCODER = msgspec.json.Encoder(decimal_format="number")


ORDER_EXAMPLE = {
    "id": 12, "status": "Started", "status_code": 100, "quantity": 1, "price": 150.00, "amount": 150.00,
    "filled": 0, "date_added": "2026-01-01T12:00:00Z", "dateupdated": "2026-01-01T12:00:00Z", "client_order_id": None,
}  # fmt: skip
BULK_EXAMPLE = {"orders": [{"id": 2, "status": "Cancel pending"}, {"id": 3, "status": "Canceled"}]}


class SfoxErrorOut(msgspec.Struct):
    """Every refusal and failure under /sfox/v1."""

    error: str


class SfoxCancelOut(msgspec.Struct):
    status: str


class SfoxCancelledOrderOut(msgspec.Struct):
    id: int
    status: str


class SfoxBulkCancelOut(msgspec.Struct):
    orders: list[SfoxCancelledOrderOut]


class SfoxOrderOut(msgspec.Struct, kw_only=True):
    """sFOX's order object, in the fields that have a meaning for an order of pets (ADR 0025)."""

    id: int
    status: str
    status_code: int
    quantity: int
    price: NumberOrNull
    amount: Number
    filled: int
    date_added: datetime
    dateupdated: datetime
    client_order_id: str | None

    @classmethod
    def of(cls, order: Order) -> SfoxOrderOut:
        shown = STATUSES[order.status]
        quantity = sum(line.quantity for line in order.lines)
        prices = {line.unit_price for line in order.lines}
        return cls(
            id=order.seq,
            status=shown.name,
            status_code=shown.code,
            quantity=quantity,
            price=_number(prices.pop()) if len(prices) == 1 else None,
            amount=_number(order.total),
            filled=quantity if order.shipped_at is not None else 0,
            date_added=order.created_at,
            dateupdated=order.updated_at,
            client_order_id=None,
        )


def _number(money: Money) -> Decimal:
    return Decimal(str(money))


def json_response(content: msgspec.Struct | list[Any], status_code: int = 200) -> Response[bytes]:
    """``content`` encoded by us, so that amounts stay exact numbers (Litestar would write a Decimal as a float)."""
    return Response(_ENCODER.encode(content), status_code=status_code, media_type="application/json")
