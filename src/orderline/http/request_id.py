"""X-Request-Id: taken from the client when sane, made up otherwise, echoed on every response and logged."""

from __future__ import annotations

import re

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Send
from litestar.types import Scope as AsgiScope
from uuid_utils.compat import uuid7

from orderline.application import audit

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()  # ASGI header names arrive lower-cased
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


NATIVE = "native"  # the API a request to /v1 comes through, as its audit entries record it


def request_id_of(scope: AsgiScope) -> str:
    """The request's id, fixed on first use: the client's if sane, else a new UUIDv7."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        sent = b""
        for name, value in scope.get("headers", ()):  # no dict of every header: the last one sent counts
            if name == _HEADER_BYTES:
                sent = value
        text = sent.decode("latin-1")
        state["request_id"] = text if _SANE.fullmatch(text) else str(uuid7())
    request_id: str = state["request_id"]
    return request_id


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Bind the id into every log line of the request (routes that matched)."""

    async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token, api = audit.request_id.set(request_id), audit.api.set(NATIVE)
        # bind/reset, not the bound_contextvars context manager: the same effect without a generator per request
        logged = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**logged)
            audit.api.reset(api)
            audit.request_id.reset(token)

    return middleware


async def add_request_id_header(message: Message, scope: AsgiScope) -> None:
    """before_send hook: runs for every response, including unknown routes that no middleware sees."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_of(scope)
