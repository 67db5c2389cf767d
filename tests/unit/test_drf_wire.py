"""The DRF dialect's bodies built the cheaper way (ADR 0048) are the bodies built the plain way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar.response import Response

from orderline.application.ports import AddressView, CustomerView, OrderLineView, OrderView
from orderline.domain.status import OrderStatus
from orderline.http.dialects.drf.errors import json_response
from orderline.http.dialects.drf.examples import PAGE_EXAMPLE, TOKEN_EXAMPLE
from orderline.http.dialects.drf.mapping import STATUS_OF
from orderline.http.dialects.drf.wire import DrfOrdersPage, DrfTokenPairOut, viewed, viewed_page

ADA = CustomerView("ada@example.com", "Ada", None, "ACTIVE")
BOB = CustomerView("bob@example.com", None, "Bobson", "ACTIVE")


def a_view(status: OrderStatus, user_id: uuid.UUID | None, currency: str = "USD") -> OrderView:
    moment = datetime(2026, 12, 1, 3, 0, 0, 123456, tzinfo=UTC)
    lines = [
        OrderLineView(1, uuid.uuid4(), "Rex", "12.50", 2, "25.00"),
        OrderLineView(2, uuid.uuid4(), "Tom", "1", 1, "1"),
    ]
    address = AddressView("1 High St", "Flat 2", "London", None, "02134", "GB")
    return OrderView(
        id=uuid.uuid4(), seq=1, number="1001", user_id=user_id, status=status.value, currency=currency, items=lines,
        note=None, total_amount="26.00", subtotal_amount="26.00", discount_amount="0.00", voucher_code=None,
        billing_address=address, payment_status="UNPAID", paid_amount="0.00", refunded_amount="0.00", paid_at=None,
        cancel_reason=None, cancel_note=None, cancel_requested_at=None, cancelled_at=None, created_at=moment,
        updated_at=moment, version=1, tenant_id=None,
    )  # fmt: skip


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_a_view_shows_its_status_and_zeros_as_the_mapping_and_its_currency_say(
    status: OrderStatus, currency: str
) -> None:
    body = msgspec.to_builtins(viewed(a_view(status, None, currency), ADA, "http://x/api/v1/i/orders/1/"))

    assert body["status"] == STATUS_OF[status].value
    zero = "0" if currency == "JPY" else "0.00"
    assert (body["shipping"], body["savings_on_items"], body["items"][0]["discount_amount"]) == (zero, zero, zero)
    assert body["customer"] == {"email": "ada@example.com", "first_name": "Ada", "last_name": ""}


def test_a_page_shows_each_order_as_viewed_does_each_customer_built_once() -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    shown = [
        (a_view(OrderStatus.PLACED, ada), ADA),
        (a_view(OrderStatus.SHIPPED, None), None),
        (a_view(OrderStatus.CANCELLED, bob), BOB),
        (a_view(OrderStatus.DELIVERED, ada), ADA),
    ]
    base = "http://shop.test/api/v1/i/orders/"

    page = viewed_page(shown, base)

    assert msgspec.json.encode(page) == msgspec.json.encode(
        [viewed(view, customer, f"{base}{view.id}/") for view, customer in shown]
    )
    assert page[0].customer is page[3].customer


# What Litestar's response handler passes a route: no headers, cookies or encoders of its own, or (as Litestar's
# pydantic plugin gives every route) some type encoders.
ROUTE: dict[str, Any] = {"headers": {}, "cookies": [], "media_type": "application/json", "status_code": 200}


async def _messages(response: Any, type_encoders: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asgi = response.to_asgi_response(None, None, **ROUTE, type_encoders=type_encoders)
    await asgi({"type": "http"}, None, send)
    return sent


@pytest.mark.parametrize("type_encoders", [None, {complex: str}])
@pytest.mark.parametrize(
    "body", [msgspec.convert(PAGE_EXAMPLE, DrfOrdersPage), msgspec.convert(TOKEN_EXAMPLE, DrfTokenPairOut)]
)
async def test_the_dialects_json_answer_sends_what_litestars_response_sent(body: Any, type_encoders: Any) -> None:
    plain = Response(body, status_code=200, media_type="application/json")

    assert await _messages(json_response(body), type_encoders) == await _messages(plain, type_encoders)
