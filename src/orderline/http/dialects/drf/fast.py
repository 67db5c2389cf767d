"""The DRF dialect's fast routes: its order detail, list and delete answered without Litestar's per-route machinery,
as the native hot routes are (http/hot_routes.py, ADR 0042), and anything the least unusual left to Litestar.

Litestar still declares the routes (the document, the other methods, every refusal of routing). The front
(http/front.py) asks ``DrfFastRoutes.match`` for the forms the original's clients send: ``GET`` or ``DELETE
/api/v1/i/orders/{id}/`` and ``GET /api/v1/i/orders/`` — the trailing slash as Django writes it, a UUID in its
canonical form, no root path, a first Host header Litestar's router takes, and for the list a query of ``limit``,
``offset`` and ``status``, each at most once, plainly valid, nothing percent-encoded; the others take no query.
Matching has no side effect, so a request it does not take goes Litestar's way whole. A request it takes runs what
Litestar's route runs, in the same order and with the same pieces: what the router writes into the scope (the path
without its trailing slash, the path parameters, the route handler, its template and exception handlers), inside
Litestar's exception middleware with the route's handlers (the dialect's ``render_error``), the gate
(http/gate.py), the dialect naming itself as the audit's API (its router's middleware), the ``before_request``
reading (http/strict.py), the route's own function (routes.py ``show_order``, ``show_page``, ``erase_order``)
and the handler's ``to_response``. ADR 0048.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast
from uuid import UUID

from litestar import Litestar, Request
from litestar._asgi.utils import is_valid_host, wrap_in_exception_handler  # pinned Litestar (ADR 0042)
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, ExceptionHandlersMap, HTTPScope, Receive, Send
from litestar.types import Scope as AsgiScope
from litestar.utils.scope.state import ScopeState

from orderline.application import audit
from orderline.application.pagination import MAX_OFFSET
from orderline.http.dialects import Dialect
from orderline.http.dialects.drf.mapping import DrfStatus
from orderline.http.dialects.drf.routes import PREFIX, erase_order, show_order, show_page
from orderline.http.dialects.drf.wire import ORDERS_PATH, PAGE_SIZE
from orderline.http.gate import gate, pass_gate
from orderline.http.rate_limit import RateLimits
from orderline.http.strict import read_strictly, strict_body

Query = Callable[[bytes], dict[str, Any] | None]  # the parsed query, or None: not plainly valid
_ORDERS = PREFIX + ORDERS_PATH  # "/api/v1/i/orders/"
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ONE_ORDER = re.compile(f"{re.escape(_ORDERS)}({_UUID})/")
_SAMPLE_ID = "00000000-0000-4000-8000-000000000000"
_HOST = b"host"
_NAME = "drf"  # the dialect's name, as the audit records the API a request came through
_MAX_LIMIT = 2**31 - 1  # routes.py's Limit
_LIMIT = re.compile("[1-9][0-9]{0,9}")  # as JSON writes an integer: no sign, no leading zero
_OFFSET = re.compile("0|[1-9][0-9]{0,4}")
_STATUSES = {status.value: status for status in DrfStatus}
_GATE = f"{gate.__qualname__}.<locals>.middleware"  # the gate's middleware (http/gate.py) as Litestar holds it


def _no_query(raw: bytes) -> dict[str, Any] | None:
    return {} if not raw else None


def _bounded(pattern: re.Pattern[str], most: int) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        return number if pattern.fullmatch(value) and (number := int(value)) <= most else None

    return parse


_LIST_PARAMETERS: dict[str, Callable[[str], Any]] = {
    "status": _STATUSES.get,
    "limit": _bounded(_LIMIT, _MAX_LIMIT),
    "offset": _bounded(_OFFSET, MAX_OFFSET),
}


def _list_query(raw: bytes) -> dict[str, Any] | None:
    """status, limit and offset, each at most once and plainly valid, nothing percent-encoded; anything else (an
    unknown or repeated name, a value Litestar would refuse or read otherwise) goes Litestar's way."""
    found: dict[str, Any] = {"status": None, "limit": PAGE_SIZE, "offset": 0}
    if not raw:
        return found
    if b"%" in raw or b"+" in raw:
        return None
    seen: set[str] = set()
    for part in raw.decode("latin-1").split("&"):
        name, equals, value = part.partition("=")
        parse = _LIST_PARAMETERS.get(name)
        if parse is None or not equals or name in seen or (parsed := parse(value)) is None:
            return None
        seen.add(name)
        found[name] = parsed
    return found


@dataclass(frozen=True, slots=True)
class _Shape:
    method: str
    one: bool  # /api/v1/i/orders/{id}/, else /api/v1/i/orders/
    operation_id: str  # the Litestar route it stands for, checked at start-up
    serve: Callable[..., Awaitable[Any]]  # (request, **parameters) -> what the route's function returns
    query: Query = _no_query


SHAPES = (
    _Shape("GET", True, "drfGetOrder", show_order),
    _Shape("GET", False, "drfListOrders", show_page, _list_query),
    _Shape("DELETE", True, "drfDeleteOrder", erase_order),
)


@dataclass(frozen=True, slots=True)
class _Route:
    shape: _Shape
    handler: HTTPRouteHandler
    path_template: str
    exception_handlers: ExceptionHandlersMap
    request_class: type[Request[Any, Any, Any]]


class DrfFastRoutes:
    """The DRF dialect's fast routes of one app, found in its Litestar router at start-up."""

    def __init__(self, app: Litestar, rate_limits: RateLimits) -> None:
        self._rate_limits = rate_limits
        self._routes: dict[tuple[str, bool], _Route] = {}
        for shape in SHAPES:
            path = f"{_ORDERS}{_SAMPLE_ID}" if shape.one else _ORDERS.rstrip("/")
            _app, handler, _path, _params, template = app.asgi_router.handle_routing(path=path, method=shape.method)
            if not isinstance(handler, HTTPRouteHandler) or handler.operation_id != shape.operation_id:
                raise RuntimeError(f"{shape.method} {path} is no longer Litestar's {shape.operation_id}")
            if handler.resolve_guards() or not _gate_and_dialect(handler.resolve_middleware()):
                raise RuntimeError(f"{shape.operation_id} has guards or middleware the DRF fast routes do not run")
            hook = handler.resolve_before_request()
            if getattr(hook, "func", hook) is not read_strictly or handler.resolve_after_response() is not None:
                raise RuntimeError(f"{shape.operation_id}'s hooks are not the ones the DRF fast routes run")
            self._routes[(shape.method, shape.one)] = _Route(
                shape, handler, template, handler.resolve_exception_handlers(), handler.resolve_request_class()
            )

    def match(self, scope: AsgiScope) -> ASGIApp | None:
        """The fast route that answers this request, ready to run; None (having done nothing) for any other."""
        path: str = scope["path"]
        if not path.startswith(_ORDERS) or scope.get("root_path"):
            return None
        if path == _ORDERS:
            one, path_params = False, {}
        elif found := _ONE_ORDER.fullmatch(path):
            one, path_params = True, {"order_id": UUID(found.group(1))}
        else:
            return None
        route = self._routes.get((cast("HTTPScope", scope)["method"], one))
        if route is None or not _plain_host(scope):
            return None
        query = route.shape.query(scope.get("query_string", b""))
        if query is None:
            return None
        return partial(self._serve, route, path[:-1], path_params, query)

    async def _serve(
        self, route: _Route, path: str, path_params: dict[str, Any], query: dict[str, Any], scope: AsgiScope,
        receive: Receive, send: Send,
    ) -> None:  # fmt: skip
        # What Litestar's router writes into the scope for the route it found (the path without its slash).
        scope["path"] = path
        scope["path_params"] = path_params
        scope["route_handler"] = route.handler
        scope["path_template"] = route.path_template
        ScopeState.from_scope(scope).exception_handlers = route.exception_handlers
        run = partial(self._run, route, {**path_params, **query})
        await wrap_in_exception_handler(run)(scope, receive, send)

    async def _run(
        self, route: _Route, parameters: dict[str, Any], scope: AsgiScope, receive: Receive, send: Send
    ) -> None:
        await pass_gate(self._rate_limits, scope)
        token = audit.api.set(_NAME)  # the dialect router's middleware, which runs inside the gate
        try:
            request = route.request_class(scope, receive, send)
            await strict_body(request)  # the before_request hook's work (these routes take no body)
            answer = await route.shape.serve(request, **parameters)
            asgi = await route.handler.to_response(app=scope["litestar_app"], data=answer, request=request)
            await asgi(scope, receive, send)
        finally:
            audit.api.reset(token)


def _gate_and_dialect(middleware: list[Any]) -> bool:
    """The gate and this dialect's own (naming its API), and no other: what ``_run`` does in their place."""
    ours = [layer for layer in middleware if getattr(layer, "__func__", None) is Dialect._through_this_api]
    gates = [layer for layer in middleware if getattr(layer, "__qualname__", "") == _GATE]
    return len(middleware) == 2 and len(gates) == 1 and [layer.__self__.name for layer in ours] == [_NAME]


def _plain_host(scope: AsgiScope) -> bool:
    """Whether the first Host header, if any, is one Litestar's router takes."""
    for name, value in scope["headers"]:
        if name == _HOST:
            return is_valid_host(value)
    return True
