"""Live event streams over Server-Sent Events: GET /v1/orders/{id}/events and GET /v1/admin/events (ADR 0030)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from orderline.application.event_stream import Heartbeat, LiveStream
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.http.access import needs
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import problems, success

MEDIA_TYPE = "text/event-stream"
RETRY_MILLISECONDS = 3000  # how long an EventSource waits before it reconnects (with Last-Event-ID)
_SEQ_RULE = {"min_length": 1, "max_length": 19, "pattern": r"^[0-9]+$"}

LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        description="the id of the last event received: the stream resumes after it ('0': from the first event)."
        " An id this stream never sent is a 400.",
        **_SEQ_RULE,
    ),
]
LastEventIdQuery = Annotated[
    str | None,
    QueryParameter(
        name="lastEventId",
        description="the same as the Last-Event-ID header, for clients that cannot set headers; the header wins",
        **_SEQ_RULE,
    ),
]


class StreamEventOut(msgspec.Struct):
    """One Server-Sent Event of a stream, as a client's EventSource reads it: each is validated against this."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+$", description="its position in the outbox: Last-Event-ID")]
    event: Annotated[str, msgspec.Meta(description="the event's type, such as order.statusChanged")]
    data: Annotated[str, msgspec.Meta(description="the payload JSON, as webhooks deliver it (docs/webhooks.md)")]


STREAM_EXAMPLE = (
    "retry: 3000\r\n\r\n"
    "id: 42\r\nevent: order.statusChanged\r\n"
    'data: {"eventId":"019b4139-5678-7abc-8def-123456789abc","eventType":"order.statusChanged",'
    '"timestamp":"2026-11-30T12:00:00Z","data":{"previousStatus":"PLACED","newStatus":"APPROVED"}}\r\n\r\n'
    ": keep-alive\r\n\r\n"
)
_STREAM_DESCRIPTION = (
    "`text/event-stream`: each event has `id:` (its position in the outbox; send it back as Last-Event-ID to "
    "resume), `event:` (its type) and `data:` (the payload JSON, as webhooks deliver it). Without Last-Event-ID the "
    "stream starts with events from now on. Quiet streams carry a `: keep-alive` comment every "
    "ORDERLINE_STREAM_HEARTBEAT_SECONDS; a stream ends after ORDERLINE_STREAM_MAX_SECONDS and when the server "
    "shuts down, and the client then resumes with Last-Event-ID."
)


@get(
    "/orders/{order_id:uuid}/events",
    **needs(Scope.READ_ORDERS),
    operation_id="streamOrderEvents",
    summary="Follow an order's events live",
    description="The order's events (its owner's or an admin's stream; 404 for anyone else, as for Get Order). "
    + _STREAM_DESCRIPTION,
    tags=("Store",),
    responses={
        **success(200, StreamEventOut, STREAM_EXAMPLE, "the order's events, as they happen", media_type=MEDIA_TYPE),
        **problems("not-found", "unauthorized", "forbidden", "too-many-streams", "service-unavailable"),
    },
)
async def order_events(
    order_id: FromPath[UUID],
    use_cases: Injected[UseCases],
    principal: Caller,
    last_event_id: LastEventId = None,
    last_event_id_query: LastEventIdQuery = None,
) -> ServerSentEvent:
    stream = await use_cases.event_stream.open(principal, order_id, _resume_after(last_event_id, last_event_id_query))
    return ServerSentEvent(sse_messages(stream))


@get(
    "/admin/events",
    **needs(Scope.SUPPORT),
    operation_id="streamAllEvents",
    summary="Follow every event live",
    description="Every event of the shop, for its staff (admin or support). " + _STREAM_DESCRIPTION,
    tags=("Admin",),
    responses={
        **success(200, StreamEventOut, STREAM_EXAMPLE, "every event, as it happens", media_type=MEDIA_TYPE),
        **problems("unauthorized", "forbidden", "too-many-streams", "service-unavailable"),
    },
)
async def all_events(
    use_cases: Injected[UseCases],
    principal: Caller,
    last_event_id: LastEventId = None,
    last_event_id_query: LastEventIdQuery = None,
) -> ServerSentEvent:
    stream = await use_cases.event_stream.open(principal, None, _resume_after(last_event_id, last_event_id_query))
    return ServerSentEvent(sse_messages(stream))


def _resume_after(header: str | None, query: str | None) -> str | None:
    return header if header is not None else query


async def sse_messages(stream: LiveStream) -> AsyncIterator[ServerSentEventMessage]:
    """A live stream as SSE messages: the reconnect delay first, then events and keep-alive comments."""
    yield ServerSentEventMessage(data=None, retry=RETRY_MILLISECONDS)
    try:
        async for item in stream:
            if isinstance(item, Heartbeat):
                yield ServerSentEventMessage(data=None, comment="keep-alive")
            else:
                yield ServerSentEventMessage(data=item.payload, event=item.event_type, id=item.seq)
    finally:
        await stream.aclose()
