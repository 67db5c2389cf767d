"""POST /v1/orders/{id}: the Pet Store's Callback Example. The client names a URL to be called back at when its
order is processed (``orderProcessed``); answered 201 ``{}`` (ADR 0030)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import post
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    RequestBody,
    Schema,
)
from litestar.params import Body, FromPath
from litestar.response import Response

from orderline.application.callbacks import MAX_URL_LENGTH, RegisterCallback
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.http.access import needs
from orderline.http.api.wire import CurrencyCode, DecimalString, Timestamp
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success
from orderline.http.wire import in_utc

_PORT = r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
# http or https, a host name or IPv4 address, an optional port, then printable ASCII without '#': no user:password@,
# no fragment, no spaces. What the pattern admits, the use case accepts; where it may be sent is checked again
# at registration and at every delivery (the webhooks' destination rules).
CALLBACK_URL_PATTERN = r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?" + _PORT + r'(?:[/?][!"$-~]*)?$'

CallbackUrl = Annotated[
    str,
    msgspec.Meta(
        min_length=10,
        max_length=MAX_URL_LENGTH,
        pattern=CALLBACK_URL_PATTERN,
        description="an absolute http or https URL (no credentials, no fragment) to POST the orderProcessed "
        "callback to",
        examples=["https://client.example.com/callbacks/orders"],
        extra_json_schema={"format": "uri"},
    ),
]


class CallbackIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """The Pet Store's callback request: every field is required."""

    amount: DecimalString
    currency: CurrencyCode
    timestamp: Timestamp
    callback_url: CallbackUrl

    def command(self) -> RegisterCallback:
        moment = in_utc(self.timestamp, "timestamp")
        assert moment is not None
        return RegisterCallback(self.amount, self.currency, moment, self.callback_url)


class CallbackEnqueuedOut(msgspec.Struct):
    """Nothing: the callback is registered (the Pet Store answers ``{}``)."""


CALLBACK_EXAMPLE = {
    "amount": "150.00",
    "currency": "USD",
    "timestamp": "2026-11-30T12:00:00Z",
    "callbackUrl": "https://client.example.com/callbacks/orders",
}


PROCESSED_EXAMPLE = {
    "eventId": "019b4139-5678-7abc-8def-123456789abc",
    "eventType": "order.processed",
    "timestamp": "2026-11-30T12:00:05Z",
    "data": {"order": {"id": "019b4139-1234-7abc-8def-123456789abc", "status": "APPROVED"}},
}


def _order_processed() -> PathItem:
    """The callback orderline makes: the order.processed event, POSTed to the callbackUrl the client gave."""
    event = Schema(
        type=OpenAPIType.OBJECT,
        required=["eventId", "eventType", "timestamp", "data"],
        properties={
            "eventId": Schema(type=OpenAPIType.STRING, format="uuid"),  # type: ignore[arg-type]
            "eventType": Schema(type=OpenAPIType.STRING, const="order.processed"),
            "timestamp": Schema(type=OpenAPIType.STRING, format="date-time"),  # type: ignore[arg-type]
            "data": Schema(
                type=OpenAPIType.OBJECT,
                required=["order"],
                properties={"order": Schema(type=OpenAPIType.OBJECT, description="the order, as Get Order answers")},
            ),
        },
    )
    return PathItem(
        post=Operation(
            summary="orderProcessed",
            description="Sent once the order becomes APPROVED, CANCELLED or DELIVERED, signed with the shop's "
            "callback secret (Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature, and "
            "X-Webhook-Signature) and retried with backoff until a 2xx answer.",
            request_body=RequestBody(
                required=True,
                content={
                    "application/json": OpenAPIMediaType(
                        schema=event, examples={"processed": Example(value=PROCESSED_EXAMPLE)}
                    )
                },
            ),
            responses={"2XX": OpenAPIResponse(description="Callback received")},
        )
    )


@dataclass
class _WithOrderProcessed(Operation):
    """Register Order Callback's operation, declaring the orderProcessed callback as the Pet Store does."""

    def __post_init__(self) -> None:
        self.callbacks = {"orderProcessed": {"{$request.body#/callbackUrl}": _order_processed()}}


@post(
    "/orders/{order_id:uuid}",
    operation_class=_WithOrderProcessed,
    **needs(Scope.WRITE_ORDERS),
    operation_id="registerOrderCallback",
    summary="Callback Example",
    description="Registers a callback: once the order is processed (it becomes APPROVED, CANCELLED or DELIVERED) "
    "orderline POSTs the `order.processed` event to callbackUrl, signed with the shop's callback secret (Standard "
    "Webhooks headers and X-Webhook-Signature, as every webhook) and retried like one. The order's owner or an "
    "admin only: 404 for anyone else, as for Get Order. A callbackUrl whose host is, or resolves to, a "
    "loopback, private or other non-public address is refused (400 invalid-webhook), as for webhooks.",
    tags=("Store",),
    responses={
        **success(201, CallbackEnqueuedOut, {}, "Callback enqueued"),
        **problems("not-found", "unauthorized", "forbidden", "invalid-webhook", "unsupported-media-type"),
    },
)
async def register_callback(
    order_id: FromPath[UUID],
    data: Annotated[CallbackIn, Body(examples=body_examples(callback=CALLBACK_EXAMPLE))],
    use_cases: Injected[UseCases],
    principal: Caller,
) -> Response[CallbackEnqueuedOut]:
    await use_cases.order_callbacks.register(principal, order_id, data.command())
    return Response(CallbackEnqueuedOut(), status_code=201)
