"""Event payloads' bodies: an order and a payment exactly as the native API answers them (ports.EventRenderer)."""

from __future__ import annotations

from typing import Any

import msgspec

from orderline.domain.order import Order
from orderline.domain.payment import Payment
from orderline.http.api.order_wire import OrderOut
from orderline.http.api.payments import PaymentOut


class NativeBodies:
    """``GET /v1/orders/{id}``'s Order and Pay Order's payment, as JSON values, from the same wire structs."""

    def order(self, order: Order) -> dict[str, Any]:
        body: dict[str, Any] = msgspec.to_builtins(OrderOut.of(order))
        return body

    def payment(self, payment: Payment) -> dict[str, Any]:
        body: dict[str, Any] = msgspec.to_builtins(PaymentOut.of(payment))
        return body
