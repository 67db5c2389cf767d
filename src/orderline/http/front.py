"""Every request's outermost layer: its header facts read once, its id bound, its answer's headers, its observation.

It wraps the app's whole ASGI handler, so it sees every request, routed or not (404s, 405s, the 429s that
replace them). In one ``send`` wrapper it writes what every answer carries — ``X-Request-Id``, the
``RateLimit-*`` headers, an OPTIONS answer's full ``Allow`` — appending to the raw header list, and notes the
status for the metrics and the access line. The few hot routes' plainest requests it hands to their own router
(http/hot_routes.py, ADR 0042; a dialect's, ADR 0048) instead of Litestar's. The routed request's decisions (who
calls, the rate limit, the route's access rule) are the gate's (http/gate.py), which runs after routing. ADR 0039
says why this replaced four middleware and three ``before_send`` hooks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application import audit
from orderline.http.access_log import CLIENT_CLOSED, observe
from orderline.http.allow import allowed_methods
from orderline.http.facts import REQUEST_ID, facts_of
from orderline.http.host import InvalidHost
from orderline.http.metrics import Metrics
from orderline.http.rate_limit import RateLimits
from orderline.http.request_id import NATIVE


class FastRoutes(Protocol):
    """Routes answered before Litestar's router: the hot routes (http/hot_routes.py, ADR 0042), a dialect's (ADR
    0048). ``match`` does nothing but say whether it takes the request."""

    def match(self, scope: AsgiScope) -> ASGIApp | None: ...


# How the app answers a request refused before routing (an unknown route, a Host no URL is made of): in the body of
# the path's owner, problem+json or a dialect's.
Unrouted = Callable[[Request[Any, Any, Any], HTTPException], Response[Any]]


def front_door(
    app: ASGIApp, metrics: Metrics, rate_limits: RateLimits, unrouted: Unrouted, hot: Sequence[FastRoutes] = ()
) -> ASGIApp:
    """Wrap the app's ASGI handler (``app.asgi_handler``): the layer every HTTP request passes first; a request
    one of the ``hot`` routers takes is answered there instead of by Litestar's router (ADR 0042, 0048). A request
    whose Host header no URL can be read from is refused here, before anything reads it (http/host.py)."""
    refuse_host = _refuse_host(unrouted)

    async def front(scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"]  # before routing, which rewrites it for mounted apps
        facts = facts_of(scope)
        request_id = facts.request_id
        status = 0

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                added = [(REQUEST_ID, request_id.encode()), *await rate_limits.headers_of(message, scope)]
                if scope["method"] == "OPTIONS" and (allow := allowed_methods(scope)) is not None:
                    added.append((b"allow", allow.encode()))
                message["headers"] = _with_headers(message.get("headers", ()), added)
                status = message["status"]  # after the rate limit: a 404 beyond the limit became a 429
            elif message["type"] == "http.response.body":
                rate_limits.replace_body(message, scope)
            await send(message)

        token, api = audit.request_id.set(request_id), audit.api.set(NATIVE)  # a dialect's router names its own
        # bind/reset, not the bound_contextvars context manager: the same effect without a generator per request
        logged = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            handler = app if facts.host_readable else refuse_host
            for routes in hot if facts.host_readable else ():
                if (found := routes.match(scope)) is not None:
                    handler = found
                    break
            await handler(scope, receive, answer)
        except BaseException:
            status = status or 500
            raise
        finally:
            structlog.contextvars.reset_contextvars(**logged)
            audit.api.reset(api)
            audit.request_id.reset(token)
            observe(metrics, scope, path, status or CLIENT_CLOSED, time.perf_counter() - start)

    return front


def _refuse_host(unrouted: Unrouted) -> ASGIApp:
    """A request whose Host no URL can be read from, answered as the app answers an unknown route (http/host.py)."""

    async def refuse(scope: AsgiScope, receive: Receive, send: Send) -> None:
        request: Request[Any, Any, Any] = Request(scope)
        response = unrouted(request, InvalidHost())
        asgi = response.to_asgi_response(app=None, request=request)
        await asgi(scope, receive, send)

    return refuse


def _with_headers(headers: object, added: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer's headers with ``added`` set: an earlier header of the same name is replaced."""
    names = {name for name, _ in added}
    kept: list[tuple[bytes, bytes]] = [header for header in headers if header[0].lower() not in names]  # type: ignore[attr-defined]
    kept.extend(added)
    return kept
