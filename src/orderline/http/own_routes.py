"""What our own routers share (the native hot routes, ADR 0042; the DRF dialect's, ADR 0048): a Litestar route found
at start-up and checked to be one they can run, a plain query read the way Litestar would read it, and the
request run as Litestar's route runs it, with Litestar's own pieces where the answer depends on them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Litestar, Request
from litestar._asgi.utils import is_valid_host, wrap_in_exception_handler  # pinned Litestar (ADR 0042)
from litestar.handlers import HTTPRouteHandler
from litestar.types import ExceptionHandlersMap, Receive, Send
from litestar.types import Scope as AsgiScope
from litestar.utils.scope.state import ScopeState

from orderline.application import audit
from orderline.http.gate import pass_gate
from orderline.http.rate_limit import RateLimits
from orderline.http.strict import read_strictly, strict_body

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
SAMPLE_ID = "00000000-0000-4000-8000-000000000000"  # a path parameter to find a route by, at start-up
Query = Callable[[bytes], dict[str, Any] | None]  # the parsed query, or None: not plainly valid
Serve = Callable[..., Awaitable[Any]]  # (request, **parameters) -> what the route's function returns
_HOST = b"host"


@dataclass(frozen=True, slots=True)
class OwnRoute:
    """A Litestar route as our routers run it: its handler and what Litestar's router would give the request."""

    handler: HTTPRouteHandler
    path_template: str
    exception_handlers: ExceptionHandlersMap
    request_class: type[Request[Any, Any, Any]]


def own_route(
    app: Litestar, method: str, path: str, operation_id: str, middleware: Callable[[list[Any]], bool]
) -> OwnRoute:
    """The route Litestar answers ``method path`` with, if it is still ``operation_id`` with no guard, the
    middleware ``middleware`` accepts (what the caller runs in their place), the app's ``before_request`` reading
    and no ``after_response``; a RuntimeError at start-up otherwise, so a router never runs less than Litestar."""
    _app, handler, _path, _params, template = app.asgi_router.handle_routing(path=path, method=method)
    if not isinstance(handler, HTTPRouteHandler) or handler.operation_id != operation_id:
        raise RuntimeError(f"{method} {path} is no longer Litestar's {operation_id}")
    if handler.resolve_guards() or not middleware(handler.resolve_middleware()):
        raise RuntimeError(f"{operation_id} has guards or middleware our own routes do not run")
    hook = handler.resolve_before_request()
    if getattr(hook, "func", hook) is not read_strictly or handler.resolve_after_response() is not None:
        raise RuntimeError(f"{operation_id}'s hooks are not the ones our own routes run")  # Litestar wraps a hook
    return OwnRoute(handler, template, handler.resolve_exception_handlers(), handler.resolve_request_class())


def no_query(raw: bytes) -> dict[str, Any] | None:
    return {} if not raw else None


def plain_query(parameters: Mapping[str, Callable[[str], Any]], defaults: Mapping[str, Any]) -> Query:
    """A reader of a query of ``parameters`` (each parses its value, None: refused), each at most once and plainly
    valid, nothing percent-encoded; anything else (an unknown or repeated name, a value Litestar would refuse or
    read otherwise) is None, for Litestar's way."""

    def read(raw: bytes) -> dict[str, Any] | None:
        found = dict(defaults)
        if not raw:
            return found
        if b"%" in raw or b"+" in raw:
            return None
        seen: set[str] = set()
        for part in raw.decode("latin-1").split("&"):
            name, equals, value = part.partition("=")
            parse = parameters.get(name)
            if parse is None or not equals or name in seen or (parsed := parse(value)) is None:
                return None
            seen.add(name)
            found[name] = parsed
        return found

    return read


def bounded(pattern: str, most: int) -> Callable[[str], int | None]:
    """An integer parameter as JSON writes one (``pattern``), at most ``most``."""
    compiled = re.compile(pattern)

    def parse(value: str) -> int | None:
        return number if compiled.fullmatch(value) and (number := int(value)) <= most else None

    return parse


def plain_host(scope: AsgiScope) -> bool:
    """Whether the first Host header, if any, is one Litestar's router takes."""
    for name, value in scope["headers"]:
        if name == _HOST:
            return is_valid_host(value)
    return True


@dataclass(frozen=True, slots=True)
class Run:
    """How one request of an own route runs: ``serve`` with these parameters, the body as ``data`` if
    ``has_body``, the audit naming ``api`` (a dialect's router's middleware) if set, and the scope's path
    rewritten to ``path`` (as Litestar's router leaves it) if set."""

    route: OwnRoute
    serve: Serve
    parameters: dict[str, Any]
    path_params: dict[str, Any]
    has_body: bool = False
    api: str | None = None
    path: str | None = None


async def run_as_litestar(rate_limits: RateLimits, run: Run, scope: AsgiScope, receive: Receive, send: Send) -> None:
    """The request, run as Litestar's route runs it: what its router writes into the scope, its exception
    middleware with the route's handlers, the gate, the ``before_request`` reading, the route's function and the
    handler's ``to_response``."""
    if run.path is not None:
        scope["path"] = run.path
    scope["path_params"] = run.path_params
    scope["route_handler"] = run.route.handler
    scope["path_template"] = run.route.path_template
    ScopeState.from_scope(scope).exception_handlers = run.route.exception_handlers
    await wrap_in_exception_handler(partial(_inside, rate_limits, run))(scope, receive, send)


async def _inside(rate_limits: RateLimits, run: Run, scope: AsgiScope, receive: Receive, send: Send) -> None:
    await pass_gate(rate_limits, scope)
    token = None if run.api is None else audit.api.set(run.api)
    try:
        request = run.route.request_class(scope, receive, send)
        data = await strict_body(request)  # the app's before_request hook's work, and the body it read
        parameters = {**run.parameters, "data": data} if run.has_body else run.parameters
        answer = await run.serve(request, **parameters)
        asgi = await run.route.handler.to_response(app=scope["litestar_app"], data=answer, request=request)
        await asgi(scope, receive, send)
    finally:
        if token is not None:
            audit.api.reset(token)
