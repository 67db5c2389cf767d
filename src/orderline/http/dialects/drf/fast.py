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
from dataclasses import dataclass
from functools import partial
from typing import Any, cast
from uuid import UUID

from litestar import Litestar
from litestar.types import ASGIApp, HTTPScope
from litestar.types import Scope as AsgiScope

from orderline.application.pagination import MAX_OFFSET
from orderline.http.dialects import Dialect
from orderline.http.dialects.drf.mapping import DrfStatus
from orderline.http.dialects.drf.routes import PREFIX, erase_order, show_order, show_page
from orderline.http.dialects.drf.wire import ORDERS_PATH, PAGE_SIZE
from orderline.http.gate import gate
from orderline.http.own_routes import (
    SAMPLE_ID,
    UUID_PATTERN,
    OwnRoute,
    Query,
    Run,
    Serve,
    bounded,
    no_query,
    own_route,
    plain_host,
    plain_query,
    run_as_litestar,
)
from orderline.http.rate_limit import RateLimits

_ORDERS = PREFIX + ORDERS_PATH  # "/api/v1/i/orders/"
_ONE_ORDER = re.compile(f"{re.escape(_ORDERS)}({UUID_PATTERN})/")
_NAME = "drf"  # the dialect's name, as the audit records the API a request came through
_MAX_LIMIT = 2**31 - 1  # routes.py's Limit
_STATUSES = {status.value: status for status in DrfStatus}
_GATE = f"{gate.__qualname__}.<locals>.middleware"  # the gate's middleware (http/gate.py) as Litestar holds it


# status, limit and offset (limit and offset as JSON writes an integer: no sign, no leading zero).
_list_query = plain_query(
    {
        "status": _STATUSES.get,
        "limit": bounded("[1-9][0-9]{0,9}", _MAX_LIMIT),
        "offset": bounded("0|[1-9][0-9]{0,4}", MAX_OFFSET),
    },
    {"status": None, "limit": PAGE_SIZE, "offset": 0},
)


@dataclass(frozen=True, slots=True)
class _Shape:
    method: str
    one: bool  # /api/v1/i/orders/{id}/, else /api/v1/i/orders/
    operation_id: str  # the Litestar route it stands for, checked at start-up
    serve: Serve  # (request, **parameters) -> what the route's function returns
    query: Query = no_query


SHAPES = (
    _Shape("GET", True, "drfGetOrder", show_order),
    _Shape("GET", False, "drfListOrders", show_page, _list_query),
    _Shape("DELETE", True, "drfDeleteOrder", erase_order),
)


@dataclass(frozen=True, slots=True)
class _Route:
    shape: _Shape
    own: OwnRoute


class DrfFastRoutes:
    """The DRF dialect's fast routes of one app, found in its Litestar router at start-up."""

    def __init__(self, app: Litestar, rate_limits: RateLimits) -> None:
        self._rate_limits = rate_limits
        self._routes: dict[tuple[str, bool], _Route] = {}
        for shape in SHAPES:
            path = f"{_ORDERS}{SAMPLE_ID}" if shape.one else _ORDERS.rstrip("/")
            found = own_route(app, shape.method, path, shape.operation_id, _gate_and_dialect)
            self._routes[(shape.method, shape.one)] = _Route(shape, found)

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
        if route is None or not plain_host(scope):
            return None
        query = route.shape.query(scope.get("query_string", b""))
        if query is None:
            return None
        run = Run(route.own, route.shape.serve, {**path_params, **query}, path_params, api=_NAME, path=path[:-1])
        return partial(run_as_litestar, self._rate_limits, run)


def _gate_and_dialect(middleware: list[Any]) -> bool:
    """The gate and this dialect's own (naming its API), and no other: what ``run_as_litestar`` does in their place."""
    ours = [layer for layer in middleware if getattr(layer, "__func__", None) is Dialect._through_this_api]
    gates = [layer for layer in middleware if getattr(layer, "__qualname__", "") == _GATE]
    return len(middleware) == 2 and len(gates) == 1 and [layer.__self__.name for layer in ours] == [_NAME]
