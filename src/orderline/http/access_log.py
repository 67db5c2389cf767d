"""Every request, observed once at the outermost layer: one access line and its metrics.

Litestar runs app middleware only for requests a route matched, so this wraps the app's whole ASGI
handler: 404s, 405s and the 429s that replace them are timed, logged and counted too.
"""

from __future__ import annotations

import time

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from orderline.http.metrics import Metrics
from orderline.http.request_id import request_id_of

log = structlog.get_logger("orderline.access")

CLIENT_CLOSED = 499  # no answer was sent because the client went away (nginx's convention)


def observe_requests(app: ASGIApp, metrics: Metrics) -> ASGIApp:
    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"]  # before routing, which rewrites it for mounted apps
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]  # after send: its before_send hooks may have changed it (429)

        try:
            await app(scope, receive, send_noting_status)
        except BaseException:
            status = status or 500
            raise
        finally:
            seconds = time.perf_counter() - start
            status = status or CLIENT_CLOSED
            route = scope.get("path_template")
            metrics.observe(scope["method"], route, status, seconds)
            client = scope.get("client")
            log.info(
                "request",
                request_id=request_id_of(scope),
                method=scope["method"],
                path=path,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 3),
                client=client[0] if client else None,
            )

    return observed
