"""The live badge's feed: the admin event stream (ADR 0030) under /admin, where the session cookie goes.

A browser's EventSource cannot send an Authorization header, and the session cookie is scoped to /admin, so
the dashboard serves the same stream (EventStream.open, as GET /v1/admin/events) for the signed-in staff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from orderline.application.event_stream import Heartbeat, LiveStream
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.http.api.events import RETRY_MILLISECONDS
from orderline.http.dashboard.session import STAFF_SESSION
from orderline.http.dependencies import Injected


@get("/events", opt={"auth": STAFF_SESSION})
async def live_events(use_cases: Injected[UseCases], staff: Injected[Principal]) -> ServerSentEvent:
    """Events from now on; the badge counts them, so a reconnect need not resume where it left off."""
    return ServerSentEvent(_messages(await use_cases.event_stream.open(staff, None, None)))


async def _messages(stream: LiveStream) -> AsyncIterator[ServerSentEventMessage]:
    yield ServerSentEventMessage(data=None, retry=RETRY_MILLISECONDS)
    try:
        async for item in stream:
            if isinstance(item, Heartbeat):
                yield ServerSentEventMessage(data=None, comment="keep-alive")
            else:
                yield ServerSentEventMessage(data=item.payload, event=item.event_type, id=item.seq)
    finally:
        await stream.aclose()
