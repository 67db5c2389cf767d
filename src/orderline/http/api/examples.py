"""Example payloads for the OpenAPI document, in the Pet Store's own values where it has them."""

from __future__ import annotations

from typing import Any

PET_ID = "019b4132-70aa-764f-b315-e2803d882a24"
ORDER_ID = "019b4139-1234-7abc-8def-123456789abc"

ORDER_EXAMPLE: dict[str, Any] = {
    "id": ORDER_ID,
    "number": "1001",
    "petId": PET_ID,
    "userId": None,
    "status": "PLACED",
    "totalAmount": "150.00",
    "currency": "USD",
    "items": [{"id": 1, "petId": PET_ID, "name": "Whiskers", "unitPrice": "150.00", "quantity": 1, "amount": "150.00"}],
    "note": None,
    "subtotalAmount": "150.00",
    "discountAmount": "0.00",
    "voucherCode": None,
    "billingAddress": None,
    "paymentStatus": "UNPAID",
    "paidAmount": "0.00",
    "refundedAmount": "0.00",
    "paidAt": None,
    "cancelReason": None,
    "cancelNote": None,
    "cancelRequestedAt": None,
    "cancelledAt": None,
    "createdAt": "2025-12-21T13:56:23.000Z",
    "updatedAt": "2025-12-21T13:56:23.000Z",
    "version": 1,
    "tenantId": None,
}

PLACED_EXAMPLE: dict[str, Any] = {**ORDER_EXAMPLE, "orderToken": "olo_hYc3kq0yQeA8m1m3u4b0Zf2tqJ3xXlJd8r2wq9H3bVk"}

CANCEL_EXAMPLE: dict[str, Any] = {
    **ORDER_EXAMPLE,
    "status": "CANCELLED",
    "cancelReason": "DUPLICATE",
    "cancelNote": "placed twice",
    "cancelRequestedAt": "2025-12-21T14:02:00.000Z",
    "cancelledAt": "2025-12-21T14:02:00.000Z",
    "updatedAt": "2025-12-21T14:02:00.000Z",
    "version": 2,
}

CANCEL_PENDING_EXAMPLE: dict[str, Any] = {
    **CANCEL_EXAMPLE,
    "status": "CANCEL_PENDING",
    "paymentStatus": "REFUND_PENDING",
    "paidAmount": "150.00",
    "paidAt": "2025-12-21T13:58:00.000Z",
    "cancelledAt": None,
    "version": 4,
}

# Two Whiskers and a Nemo, after one Whiskers was taken off (ADR 0022): item ids stay as placed.
EDITED_EXAMPLE: dict[str, Any] = {
    **ORDER_EXAMPLE,
    "totalAmount": "162.50",
    "subtotalAmount": "162.50",
    "items": [
        {"id": 1, "petId": PET_ID, "name": "Whiskers", "unitPrice": "150.00", "quantity": 1, "amount": "150.00"},
        {"id": 2, "petId": "019b4132-70aa-764f-b315-e2803d882a25", "name": "Nemo", "unitPrice": "12.50",
         "quantity": 1, "amount": "12.50"},
    ],
    "updatedAt": "2025-12-21T14:02:00.000Z",
    "version": 2,
}  # fmt: skip

PAYMENT_ID = "019b413a-5e6f-7abc-8def-123456789abc"
REFUND_ID = "019b413b-6e6f-7abc-8def-123456789abc"

PAYMENT_IN_EXAMPLE: dict[str, Any] = {
    "amount": "150.00",
    "currency": "USD",
    "source": {
        "object": "card",
        "name": "Ada Lovelace",
        "number": "4242424242424242",
        "cvc": "123",
        "expMonth": 12,
        "expYear": 2030,
        "addressLine1": "1 High Street",
        "addressCity": "London",
        "addressCountry": "GB",
        "addressPostCode": "SW1A 1AA",
    },
}

PAYMENT_EXAMPLE: dict[str, Any] = {
    "id": PAYMENT_ID,
    "orderId": ORDER_ID,
    "amount": "150.00",
    "currency": "USD",
    "status": "SUCCEEDED",
    "source": {
        "object": "card",
        "name": "Ada Lovelace",
        "number": "************4242",
        "brand": "VISA",
        "last4": "4242",
        "expMonth": 12,
        "expYear": 2030,
        "addressLine1": "1 High Street",
        "addressLine2": None,
        "addressCity": "London",
        "addressCountry": "GB",
        "addressPostCode": "SW1A 1AA",
    },
    "gateway": "test",
    "failureCode": None,
    "failureMessage": None,
    "createdAt": "2025-12-21T13:58:00.000Z",
    "refunds": [],
}

REFUND_CALLBACK_EXAMPLE: dict[str, Any] = {
    "type": "refund.updated",
    "data": {"reference": "tg_re_asyncok_1766325720000_019b413b6e6f7abc8def123456789abc"},
}

ORDER_PAGE_EXAMPLE: dict[str, Any] = {"data": [ORDER_EXAMPLE], "nextCursor": "eyJrIjoib3JkZXJzIiwidiI6MX0"}

PLACE_EXAMPLES: dict[str, Any] = {
    "one_pet": {"petId": PET_ID},
    "several_pets": {"items": [{"petId": PET_ID, "quantity": 2}], "currency": "USD", "note": "gift"},
    "with_voucher_and_billing_address": {
        "petId": PET_ID,
        "voucherCode": "SPRING10",
        "billingAddress": {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"},
    },
    "legacy_pet_store_shape": {
        "petId": PET_ID,
        "quantity": 1,
        "shipDate": "2025-08-15",
        "status": "placed",
    },
}

PET_EXAMPLE: dict[str, Any] = {
    "id": PET_ID,
    "species": "CAT",
    "name": "Whiskers",
    "breed": "Domestic Shorthair",
    "ageMonths": 18,
    "size": "SMALL",
    "color": "Orange Tabby",
    "gender": "MALE",
    "goodWithKids": True,
    "goodWithPets": True,
    "adoptionFee": "150.00",
    "currency": "USD",
    "description": "A calm lap cat.",
    "status": "AVAILABLE",
    "intakeDate": "2025-08-24",
    "photos": ["https://example.com/photos/whiskers.jpg"],
    "medicalInfo": {"vaccinated": True, "spayedNeutered": True, "microchipped": True},
    "stock": 1,
    "stockAvailable": 1,
    "createdAt": "2025-12-21T13:56:23.000Z",
    "updatedAt": "2025-12-21T13:56:23.000Z",
    "version": 1,
}

PET_IN_EXAMPLE: dict[str, Any] = {
    key: PET_EXAMPLE[key]
    for key in ("species", "name", "breed", "ageMonths", "size", "color", "gender", "goodWithKids",
                "goodWithPets", "adoptionFee", "currency", "description", "intakeDate", "photos",
                "medicalInfo", "stock")
}  # fmt: skip

PET_PAGE_EXAMPLE: dict[str, Any] = {"data": [PET_EXAMPLE], "nextCursor": None}

INVENTORY_EXAMPLE: dict[str, Any] = {
    "available": 12,
    "pending": 2,
    "adopted": 5,
    "total": 19,
    "bySpecies": {"CAT": 4, "DOG": 7, "RABBIT": 1},
}

HEALTH_EXAMPLE: dict[str, Any] = {"status": "ok", "database": "ok"}
READY_EXAMPLE: dict[str, Any] = {"status": "ok", "database": "ok", "schema": "0005"}

USER_ID = "019b4138-e0af-70b9-8f0c-6ea97d495dfa"

REGISTER_EXAMPLE: dict[str, Any] = {
    "username": "alice",
    "email": "alice@example.com",
    "password": "correct horse battery",
    "firstName": "Alice",
    "lastName": "Liddell",
    "phone": "+44 20 7946 0958",
}

USER_EXAMPLE: dict[str, Any] = {
    "id": USER_ID,
    "username": "alice",
    "email": "alice@example.com",
    "firstName": "Alice",
    "lastName": "Liddell",
    "phone": "+44 20 7946 0958",
    "role": "CUSTOMER",
    "status": "ACTIVE",
    "createdAt": "2025-12-21T13:56:23.000Z",
    "updatedAt": "2025-12-21T13:56:23.000Z",
}

TOKEN_EXAMPLE: dict[str, Any] = {
    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTliNDEzOC1lMGFmIn0.c2lnbmF0dXJl",
    "tokenType": "Bearer",
    "expiresAt": "2025-12-22T13:56:23Z",
}

DASHBOARD_EXAMPLE: dict[str, Any] = {
    "ordersByStatus": {"PLACED": 4, "APPROVED": 2, "SHIPPED": 1, "CANCELLED": 1},
    "today": {"since": "2025-12-21T00:00:00Z", "orders": 3, "cancelled": 1, "cancellationRate": 0.3333,
              "revenue": {"USD": "175.00"}},
    "last7Days": {"since": "2025-12-14T13:56:23Z", "orders": 8, "cancelled": 1, "cancellationRate": 0.125,
                  "revenue": {"USD": "1250.00"}},
    "lowStockPets": [PET_EXAMPLE],
}  # fmt: skip

AUDIT_EXAMPLE: dict[str, Any] = {
    "id": "019b4140-0000-7000-8000-000000000081",
    "action": "ORDER_CANCELLED",
    "actorKind": "user",
    "actorId": USER_ID,
    "entityType": "ORDER",
    "entityId": ORDER_ID,
    "reason": "DUPLICATE",
    "changes": {"status": {"before": "PLACED", "after": "CANCELLED"}},
    "requestId": "019b4140-0000-7000-8000-00000000abcd",
    "occurredAt": "2025-12-21T14:02:00Z",
}

OTHER_ORDER_ID = "019b4139-5678-7abc-8def-123456789abc"
SHIPPED_ORDER_ID = "019b4139-9abc-7abc-8def-123456789abc"
UNKNOWN_ORDER_ID = "019b4139-def0-7abc-8def-123456789abc"

BULK_CANCEL_IN_EXAMPLE: dict[str, Any] = {
    "ids": [ORDER_ID, OTHER_ORDER_ID, SHIPPED_ORDER_ID, UNKNOWN_ORDER_ID],
    "reason": "DUPLICATE",
    "note": "the basket was submitted twice",
}

BULK_CANCEL_EXAMPLE: dict[str, Any] = {
    "results": [
        {"id": ORDER_ID, "outcome": "CANCELLED", "status": "CANCELLED"},
        {"id": OTHER_ORDER_ID, "outcome": "CANCEL_PENDING", "status": "CANCEL_PENDING"},
        {"id": SHIPPED_ORDER_ID, "outcome": "NOT_CANCELLABLE", "status": "SHIPPED"},
        {"id": UNKNOWN_ORDER_ID, "outcome": "NOT_FOUND", "status": None},
    ]
}
