"""Examples for the DRF dialect's operations in the OpenAPI document, in the original's shapes."""

from __future__ import annotations

from typing import Any

_ORDER_ID = "019b4139-1234-7abc-8def-123456789abc"
_URL = f"https://shop.example/api/v1/i/orders/{_ORDER_ID}/"
_JWT = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOWI0In0.eyJzdWIiOiIwMTliNCJ9.c2lnbmF0dXJl"

TOKEN_EXAMPLE = {"refresh": _JWT, "access": _JWT}
ADDRESS_EXAMPLE = {"street_address": "123 Main St", "postal_code": 12345, "city": "Anytown", "state": "CA",
                   "country": "US"}  # fmt: skip
ORDER_EXAMPLE: dict[str, Any] = {
    "id": _ORDER_ID,
    "url": _URL,
    "customer": {"email": "alice@example.com", "first_name": "Alice", "last_name": "Liddell"},
    "created": "2026-01-31T12:00:00.123456Z",
    "updated": "2026-01-31T12:00:00.123456Z",
    "billing_address": ADDRESS_EXAMPLE,
    "items": [
        {
            "id": 1,
            "product": {"id": "019b4138-0000-7abc-8def-123456789abc", "name": "Whiskers", "category": None},
            "created": "2026-01-31T12:00:00.123456Z",
            "updated": "2026-01-31T12:00:00.123456Z",
            "is_active": True,
            "unit_price": "150.00",
            "quantity": 1,
            "shipping": "0.00",
            "discount_amount": "0.00",
            "total_price": "150.00",
            "variant": "019b4138-0000-7abc-8def-123456789abc",
            "offer": None,
        }
    ],
    "items_count": 1,
    "savings_on_items": "0.00",
    "status": "awaiting_payment",
    "subtotal": "150.00",
    "amount_saved": "15.00",
    "shipping": "0.00",
    "total_amount": "135.00",
}
PAGE_EXAMPLE = {
    "count": 12,
    "next": "https://shop.example/api/v1/i/orders/?limit=10&offset=10",
    "previous": None,
    "results": [ORDER_EXAMPLE],
}
