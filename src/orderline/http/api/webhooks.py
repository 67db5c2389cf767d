"""Webhook subscription routes: /v1/webhooks, their secrets, deliveries, replays and test pings (write:webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response

from orderline.application.ports import DeliveryStatus, WebhookDelivery, WebhookSubscription
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.application.webhooks import (
    KEEP,
    MAX_PATTERNS,
    MAX_REPLAY,
    MAX_URL,
    PATTERNS,
    URL_PATTERN,
    WebhookChange,
    WebhookDraft,
)
from orderline.http.access import needs
from orderline.http.api.wire import Cursor, Limit, PageOut, Timestamp
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success

# The rules the use case checks (and refuses with invalid-webhook, 400) are stated here from the same
# constants, never enforced by msgspec first (ADR 0020): the pattern of a URL and the known event patterns.
Url = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_URL,
        description="where deliveries are POSTed: http or https, a host name or IPv4 address, optional port. A host"
        " that is, or resolves to, a loopback, private, link-local, shared (CGNAT), multicast or reserved address, or"
        " that does not resolve, is refused (unless the operator allows private addresses)",
        examples=["https://example.com/hooks/orderline"],
        extra_json_schema={"pattern": URL_PATTERN},
    ),
]
Pattern = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="an event type, a family such as order.*, or * for every event",
        extra_json_schema={"enum": list(PATTERNS)},
    ),
]
Events = Annotated[
    list[Pattern],
    msgspec.Meta(
        min_length=1, max_length=MAX_PATTERNS, description="the events to receive; a repeated one counts once"
    ),
]
Description = Annotated[str, msgspec.Meta(max_length=500)]


class WebhookIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Url
    events: Events
    description: Description | None = None
    active: bool = True


class WebhookPatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """JSON merge patch (RFC 7396): a field left out stays as it is; ``description: null`` removes it. Setting
    ``active`` to true turns on again a subscription the service turned off."""

    url: Url | msgspec.UnsetType = msgspec.UNSET
    events: Events | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def change(self) -> WebhookChange:
        def kept(value: Any) -> Any:
            return KEEP if value is msgspec.UNSET else value

        return WebhookChange(kept(self.url), kept(self.events), kept(self.description), kept(self.active))


class ReplayIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    since: Annotated[Timestamp, msgspec.Meta(description="replay the events that occurred at or after this time")]


class WebhookOut(msgspec.Struct, rename="camel", kw_only=True):
    """A subscription. Its secret is shown only when it is made: on creation and on rotation."""

    id: UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: Annotated[
        str | None, msgspec.Meta(description="why the service turned it off (the receiver answered 410 Gone)")
    ]
    previous_secret_expires_at: Annotated[
        datetime | None, msgspec.Meta(description="until when the secret before the last rotation still signs too")
    ]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, subscription: WebhookSubscription) -> dict[str, Any]:
        return {
            "id": subscription.id,
            "url": subscription.url,
            "events": list(subscription.events),
            "description": subscription.description,
            "active": subscription.active,
            "disabled_reason": subscription.disabled_reason,
            "previous_secret_expires_at": subscription.previous_secret_expires_at,
            "created_at": subscription.created_at,
            "updated_at": subscription.updated_at,
        }

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> WebhookOut:
        return cls(**cls.fields_of(subscription))


class WebhookWithSecretOut(WebhookOut, kw_only=True):
    secret: Annotated[
        str,
        msgspec.Meta(description="whsec_ and the base64 of 32 random bytes: the key that signs deliveries (Standard "
                     "Webhooks). Shown this once; keep it now"),
    ]  # fmt: skip

    @classmethod
    def with_secret(cls, subscription: WebhookSubscription) -> WebhookWithSecretOut:
        return cls(**cls.fields_of(subscription), secret=subscription.secret)


class DeliveryOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    event_id: Annotated[UUID, msgspec.Meta(description="the event's id: the webhook-id header of every attempt")]
    event_type: Annotated[str | None, msgspec.Meta(description="null once the event has left the outbox")]
    order_id: UUID | None
    status: DeliveryStatus
    attempts: Annotated[int, msgspec.Meta(description="attempts since it was made or last replayed")]
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: Annotated[int | None, msgspec.Meta(description="the receiver's last HTTP status, if it answered")]
    last_response: Annotated[
        str | None, msgspec.Meta(description="the start of the receiver's last answer, or the error that stood for it")
    ]
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            order_id=delivery.order_id,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_attempt_at=delivery.last_attempt_at,
            last_status_code=delivery.last_status_code,
            last_response=delivery.last_response,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )


class ReplayOut(msgspec.Struct, rename="camel", kw_only=True):
    deliveries: Annotated[int, msgspec.Meta(description=f"deliveries made, due now: at most {MAX_REPLAY}")]
    next_since: Annotated[
        datetime | None,
        msgspec.Meta(description="null when every event up to now was replayed; else replay again since this time"),
    ]


class PingOut(msgspec.Struct, rename="camel", kw_only=True):
    event_id: Annotated[UUID, msgspec.Meta(description="the ping event's id: its delivery's webhook-id")]


_ID = "01a22b12-973b-74a6-856d-0acafa48fb01"
WEBHOOK_IN_EXAMPLE = {"url": "https://example.com/hooks/orderline", "events": ["order.*", "payment.succeeded"],
                      "description": "fulfilment", "active": True}  # fmt: skip
WEBHOOK_EXAMPLE = {"id": _ID, **WEBHOOK_IN_EXAMPLE, "disabledReason": None, "previousSecretExpiresAt": None,
                   "createdAt": "2026-11-30T06:09:28.379700Z", "updatedAt": "2026-11-30T06:09:28.379700Z"}  # fmt: skip
SECRET_EXAMPLE = {**WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8z5lU4Fq4vw="}
DELIVERY_EXAMPLE = {"id": "01a22b13-0a1c-7d2e-9f00-1b2c3d4e5f60", "eventId": "01a22b12-9638-7092-828d-86250e68d87f",
                    "eventType": "order.created", "orderId": "01a22b12-9638-7092-828d-86250e68d87e",
                    "status": "PENDING", "attempts": 2, "nextAttemptAt": "2026-11-30T06:10:28Z",
                    "lastAttemptAt": "2026-11-30T06:09:58Z", "lastStatusCode": 503,
                    "lastResponse": "upstream unavailable", "createdAt": "2026-11-30T06:09:28.379700Z",
                    "deliveredAt": None}  # fmt: skip
_PROBLEMS = ("unauthorized", "forbidden", "not-found")


class WebhookController(Controller):
    path = "/webhooks"
    tags = ("Webhooks",)

    @post(
        "/",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="createWebhook",
        summary="Create a webhook subscription",
        description="Deliveries of the events named are POSTed to the URL, signed with the secret this answer "
        "shows once (docs/webhooks.md). A URL whose host is not public, or an unknown event pattern, is a 400.",
        responses={
            **success(201, WebhookWithSecretOut, SECRET_EXAMPLE, "the subscription, with its secret (this once)"),
            **problems("unauthorized", "forbidden", "invalid-webhook", "unsupported-media-type"),
        },
    )
    async def create(
        self,
        data: Annotated[WebhookIn, Body(examples=body_examples(fulfilment=WEBHOOK_IN_EXAMPLE))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[WebhookWithSecretOut]:
        draft = WebhookDraft(data.url, data.events, data.description, data.active)
        subscription = await use_cases.webhooks.create(principal, draft)
        headers = {"Location": f"/v1/webhooks/{subscription.id}"}
        return Response(WebhookWithSecretOut.with_secret(subscription), status_code=201, headers=headers)

    @get(
        "/",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="listWebhooks",
        summary="List webhook subscriptions",
        description="Oldest first, keyset-paginated: pass nextCursor back as cursor. Secrets are never listed.",
        responses=success(200, PageOut[WebhookOut], {"data": [WEBHOOK_EXAMPLE], "nextCursor": None}, "a page")
        | problems("unauthorized", "forbidden"),
    )
    async def list(
        self, use_cases: Injected[UseCases], principal: Caller, limit: Limit = 20, cursor: Cursor = None
    ) -> PageOut[WebhookOut]:
        page = await use_cases.webhooks.list(principal, limit=limit, cursor=cursor)
        return PageOut([WebhookOut.of(subscription) for subscription in page.items], page.next_cursor)

    @get(
        "/{webhook_id:uuid}",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="getWebhook",
        summary="Get a webhook subscription",
        responses=success(200, WebhookOut, WEBHOOK_EXAMPLE, "the subscription") | problems(*_PROBLEMS),
    )
    async def read(self, webhook_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> WebhookOut:
        return WebhookOut.of(await use_cases.webhooks.get(principal, webhook_id))

    @patch(
        "/{webhook_id:uuid}",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="updateWebhook",
        summary="Change a webhook subscription",
        description="JSON merge patch: the fields sent replace the subscription's, the others stay; "
        "description null removes it. A new URL is checked as on creation.",
        responses={
            **success(200, WebhookOut, WEBHOOK_EXAMPLE, "the changed subscription"),
            **problems(*_PROBLEMS, "invalid-webhook", "unsupported-media-type"),
        },
    )
    async def update(
        self,
        webhook_id: FromPath[UUID],
        data: Annotated[WebhookPatchIn, Body(examples=body_examples(pause={"active": False}))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> WebhookOut:
        return WebhookOut.of(await use_cases.webhooks.update(principal, webhook_id, data.change()))

    @delete(
        "/{webhook_id:uuid}",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="deleteWebhook",
        summary="Delete a webhook subscription",
        description="Nothing more is sent to it; its deliveries go with it.",
        responses=problems(*_PROBLEMS),
    )
    async def remove(self, webhook_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.webhooks.delete(principal, webhook_id)

    @post(
        "/{webhook_id:uuid}/rotate-secret",
        **needs(Scope.WRITE_WEBHOOKS),
        status_code=200,
        operation_id="rotateWebhookSecret",
        summary="Rotate a webhook's secret",
        description="A new secret, shown this once. Until previousSecretExpiresAt (ORDERLINE_WEBHOOK_SECRET_GRACE_"
        "SECONDS, a day by default) deliveries carry a signature by each secret, so receivers can switch over.",
        responses=success(200, WebhookWithSecretOut, SECRET_EXAMPLE, "the subscription, with its new secret")
        | problems(*_PROBLEMS),
    )
    async def rotate(
        self, webhook_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller
    ) -> WebhookWithSecretOut:
        return WebhookWithSecretOut.with_secret(await use_cases.webhooks.rotate_secret(principal, webhook_id))

    @get(
        "/{webhook_id:uuid}/deliveries",
        **needs(Scope.WRITE_WEBHOOKS),
        operation_id="listWebhookDeliveries",
        summary="List a webhook's deliveries",
        description="Newest first, keyset-paginated; filter by status.",
        responses=success(200, PageOut[DeliveryOut], {"data": [DELIVERY_EXAMPLE], "nextCursor": None}, "a page")
        | problems(*_PROBLEMS),
    )
    async def deliveries(
        self,
        webhook_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
        status: FromQuery[DeliveryStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[DeliveryOut]:
        page = await use_cases.webhooks.deliveries(principal, webhook_id, status=status, limit=limit, cursor=cursor)
        return PageOut([DeliveryOut.of(delivery) for delivery in page.items], page.next_cursor)

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/replay",
        **needs(Scope.WRITE_WEBHOOKS),
        status_code=202,
        operation_id="replayWebhookDelivery",
        summary="Send a delivery again",
        description="Whatever its status, the delivery becomes PENDING, due now, with its attempts back at 0 (a "
        "whole new round of retries). It keeps its event id. The subscription must be active.",
        responses=success(202, DeliveryOut, {**DELIVERY_EXAMPLE, "attempts": 0}, "the delivery, due now")
        | problems(*_PROBLEMS, "webhook-inactive"),
    )
    async def replay_delivery(
        self, webhook_id: FromPath[UUID], delivery_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller
    ) -> DeliveryOut:
        return DeliveryOut.of(await use_cases.webhooks.replay_delivery(principal, webhook_id, delivery_id))

    @post(
        "/{webhook_id:uuid}/replay",
        **needs(Scope.WRITE_WEBHOOKS),
        status_code=202,
        operation_id="replayWebhookEvents",
        summary="Replay the events since a time",
        description=f"A new delivery, due now, of each event since `since` that the subscription receives, oldest "
        f"first, at most {MAX_REPLAY} per call: when more remain, nextSince says where to continue. Receivers may get "
        "an event twice; its webhook-id tells them. The subscription must be active.",
        responses={
            **success(202, ReplayOut, {"deliveries": 42, "nextSince": None}, "the deliveries made"),
            **problems(*_PROBLEMS, "webhook-inactive", "unsupported-media-type"),
        },
    )
    async def replay_since(
        self,
        webhook_id: FromPath[UUID],
        data: Annotated[ReplayIn, Body(examples=body_examples(last_hour={"since": "2026-11-30T05:00:00Z"}))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> ReplayOut:
        replay = await use_cases.webhooks.replay_since(principal, webhook_id, data.since)
        return ReplayOut(deliveries=replay.deliveries, next_since=replay.next_since)

    @post(
        "/{webhook_id:uuid}/test",
        **needs(Scope.WRITE_WEBHOOKS),
        status_code=202,
        operation_id="testWebhook",
        summary="Send a test ping",
        description='Writes a `ping` event for this subscription alone: {"eventId", "eventType": "ping", '
        '"timestamp", "data": {"webhookId"}}, delivered like any other. The subscription must be active.',
        responses=success(202, PingOut, {"eventId": "01a22b12-9638-7092-828d-86250e68d87f"}, "the ping's event id")
        | problems(*_PROBLEMS, "webhook-inactive"),
    )
    async def ping(self, webhook_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> PingOut:
        return PingOut(event_id=await use_cases.webhooks.ping(principal, webhook_id))
