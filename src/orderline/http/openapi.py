"""OpenAPI 3.1 helpers: every operation documents its success and each problem type it may answer, with examples."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from orderline.http.problems import (
    DEFAULT_BASE_URI,
    MEDIA_TYPE,
    ProblemType,
    every_problem_type,
    problem_body,
)


class FieldErrorOut(msgspec.Struct):
    field: str
    message: str
    code: str


class ProblemOut(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details; ``code`` names the type whatever the base URI. Refusals of a rule also carry
    the rule's details, and a validation error lists each field that does not fit."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[FieldErrorOut] | None = None


_BY_SLUG = {problem.slug: problem for problem in every_problem_type()}

# One example per problem type: its detail and the extension members it carries (every one also carries
# `code`, its slug, which problem_body adds).
PROBLEM_EXAMPLES: dict[str, dict[str, Any]] = {
    "bad-request": {"detail": "JSON is malformed: invalid character (byte 10)"},
    "content-too-large": {"detail": "send a body of at most 10000000 bytes"},
    "concurrent-modification": {"detail": "order 019b4139-1234-7abc-8def-123456789abc was changed by someone else",
                                "id": "019b4139-1234-7abc-8def-123456789abc"},
    "currency-mismatch": {"detail": "the pets are priced in USD, not EUR",
                          "currencies": ["USD", "EUR"]},
    "domain-rule-refused": {"detail": "a business rule refused the request"},
    "forbidden": {"detail": "this operation needs the scope 'write:orders'",
                  "requiredScope": "write:orders"},
    "illegal-transition": {"detail": "an order cannot go from DELIVERED to SHIPPED",
                           "currentStatus": "DELIVERED", "targetStatus": "SHIPPED"},
    "internal-server-error": {
        "detail": "an unexpected error occurred; quote the X-Request-Id header when reporting it"},
    "invalid-amount": {"detail": "'12.345' has more than 2 decimal places for USD",
                       "amount": "12.345"},
    "invalid-tenant": {"detail": "X-Tenant-ID must be a UUID (version 4 or 7), not 'shop-1'",
                       "header": "X-Tenant-ID"},
    "invalid-order": {"detail": "each pet may appear only once in an order; raise its quantity instead"},
    "method-not-allowed": {"detail": "this resource does not support that method"},
    "not-found": {"detail": "order 019b4139-1234-7abc-8def-123456789abc was not found",
                  "entity": "order", "id": "019b4139-1234-7abc-8def-123456789abc"},
    "order-not-cancellable": {"detail": "an order in status SHIPPED cannot be cancelled", "currentStatus": "SHIPPED"},
    "order-not-editable": {"detail": "an order in status SHIPPED cannot be changed", "currentStatus": "SHIPPED",
                           "reason": "status"},
    "out-of-stock": {"detail": "only 0 unit(s) free, 1 requested",
                     "petId": "019b4132-70aa-764f-b315-e2803d882a24", "free": 0, "requested": 1},
    "pet-not-found": {"detail": "pet 019b4132-70aa-764f-b315-e2803d882a24 was not found",
                      "entity": "pet", "id": "019b4132-70aa-764f-b315-e2803d882a24"},
    "pet-reserved": {"detail": "1 unit(s) are reserved by open orders; cancel or ship them first", "reserved": 1},
    "rate-limit-exceeded": {"detail": "at most 300 writes per 60 seconds; try again in 42 seconds"},
    "too-many-streams": {"detail": "you have 5 live streams open already; close one first", "limit": 5},
    "service-unavailable": {"detail": "the database did not answer within 5 s (waiting for a lock another "
                            "transaction holds)", "code": "service-unavailable"},
    "stock-below-committed": {"detail": "stock 1 is below the 1 reserved and 1 sold unit(s)",
                              "requested": 1, "reserved": 1, "sold": 1},
    "total-mismatch": {"detail": "the order totals 150.00 USD, not 100.00",
                       "expected": "150.00", "sent": "100.00"},
    "unauthorized": {"detail": "the API key is unknown or has been revoked"},
    "unknown-currency": {"detail": "currency 'XYZ' is not supported",
                         "currency": "XYZ"},
    "unsupported-media-type": {"detail": "send the body as application/json"},
    "invalid-voucher": {"detail": "percentOff is between 1 and 100", "field": "percentOff"},
    "voucher-not-applicable": {"detail": "voucher SPRING10 has been used up",
                               "reason": "used-up"},
    "invalid-address": {"detail": "country is an ISO 3166-1 alpha-2 code such as GB or US",
                        "field": "country"},
    "invalid-user": {"detail": "'alice@' is not an email address", "field": "email"},
    "weak-password": {"detail": "the password is too weak: it needs at least 10 characters", "field": "password"},
    "idempotency-key-reused": {"detail": "this Idempotency-Key was used for a different request; use a new key for "
                               "a new request"},
    "idempotency-key-in-use": {"detail": "a request with this Idempotency-Key is still being processed; retry when "
                               "it has finished"},
    "precondition-failed": {"detail": "the order has changed (it is at version 3); read it again before changing it",
                            "currentVersion": 3},
    "invalid-card": {"detail": "the card number is not a valid card number",
                     "field": "number"},
    "order-not-payable": {"detail": "an order in status APPROVED takes no payment",
                          "currentStatus": "APPROVED"},
    "payment-mismatch": {"detail": "the order totals 150.00 USD, not 100.00 USD",
                         "expectedAmount": "150.00", "expectedCurrency": "USD"},
    "payment-in-progress": {"detail": "another payment of this order is being processed; wait for its answer"},
    "payment-declined": {"detail": "the card was declined",
                         "paymentId": "019b413a-5e6f-7abc-8def-123456789abc", "declineCode": "card_declined"},
    "invalid-signature": {"detail": "the callback is not a valid signed gateway callback: No matching signature "
                          "found"},
    "user-exists": {"detail": "that username is already taken", "field": "username"},
    "invalid-webhook": {"detail": "subscribe to at least one event type, family (such as order.*) or *",
                        "field": "events"},
    "webhook-inactive": {"detail": "webhook 01a22b12-973b-74a6-856d-0acafa48fb01 is not active, so nothing is sent "
                         "to it: set active to true first", "id": "01a22b12-973b-74a6-856d-0acafa48fb01"},
    "voucher-exists": {"detail": "a voucher with the code SPRING10 exists already", "field": "code"},
    "validation-error": {"detail": "the request is not valid",
                         "errors": [{"field": "quantiy", "code": "unknown",
                                     "message": "unknown field; the fields here are petId, quantity, items, currency, "
                                     "totalAmount, note, voucherCode, billingAddress, status, shipDate, complete"}]},
}  # fmt: skip


def problem_example(
    problem: ProblemType, instance: str = "/v1/orders/019b4139-1234-7abc-8def-123456789abc"
) -> dict[str, Any]:
    extra = dict(PROBLEM_EXAMPLES[problem.slug])
    detail = extra.pop("detail")
    return problem_body(problem, detail, instance, DEFAULT_BASE_URI, **extra)


def problems(*slugs: str) -> dict[int, ResponseSpec]:
    """Response specs for the problem types an operation may answer, grouped by status, one example each."""
    by_status: dict[int, list[ProblemType]] = defaultdict(list)
    for slug in ("bad-request", "validation-error", "rate-limit-exceeded", "internal-server-error", *slugs):
        by_status[_BY_SLUG[slug].status].append(_BY_SLUG[slug])
    return {
        status: ResponseSpec(
            data_container=ProblemOut,
            generate_examples=False,
            description=" or ".join(p.title for p in kinds),
            media_type=MEDIA_TYPE,
            examples=[Example(summary=p.slug, value=problem_example(p)) for p in kinds],
        )
        for status, kinds in sorted(by_status.items())
    }


def success(
    status: int, container: Any, example: Any, description: str, media_type: str = "application/json"
) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=container,
            generate_examples=False,
            description=description,
            media_type=media_type,
            examples=[Example(summary="example", value=example)] if example is not None else None,
        )
    }


def body_examples(**named: Any) -> list[Example]:
    return [Example(summary=name.replace("_", " "), value=value) for name, value in named.items()]
