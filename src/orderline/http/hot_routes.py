"""The hot routes' own router: the few order routes that carry most of the traffic, answered without Litestar's
per-route machinery, and anything the least unusual about them left to Litestar.

Litestar still declares every route (the OpenAPI document, the other methods, every refusal of routing). For
the plainest requests of six (method, path) shapes the front (http/front.py) asks ``HotRoutes.match`` first:
the path exactly as Litestar routes it (no trailing slash, a UUID in its canonical form), a query of known
names each given once with plainly valid values, a header parameter (Idempotency-Key, If-Match) at most once
with a value it takes. Matching has no side effect, so a request it does not take goes Litestar's way whole. A
request it takes runs what Litestar's route would, in the same order, with Litestar's own pieces where the
answer depends on them: the gate (http/gate.py), the
``before_request`` reading (http/strict.py, which also gives the body), the route's own function
(http/api/orders.py, payments.py), the route handler's ``to_response``, and the route's exception handlers
(Litestar's exception middleware), so refusals are rendered as they were. What it skips: the router's trie,
the ``Request`` built twice, the kwargs and signature models (path and query parameters parsed again, headers
looked up), dependency resolution and a second exception layer. ADR 0042.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast
from uuid import UUID

from litestar import Litestar
from litestar._asgi.utils import is_valid_host  # pinned Litestar (ADR 0042)
from litestar.types import ASGIApp, HTTPScope
from litestar.types import Scope as AsgiScope

from orderline.application.idempotency import MAX_KEY_LENGTH
from orderline.http.api.orders import (
    cancel_order,
    create_order,
    delete_order,
    list_orders,
    plain_list_query,
    read_order,
)
from orderline.http.api.payments import pay_order
from orderline.http.own_routes import (
    SAMPLE_ID,
    UUID_PATTERN,
    OwnRoute,
    Query,
    Run,
    Serve,
    no_query,
    own_route,
    run_as_litestar,
)
from orderline.http.preconditions import IF_MATCH_MAX_LENGTH
from orderline.http.rate_limit import RateLimits

_ONE_ORDER = re.compile(f"/v1/orders/({UUID_PATTERN})(/cancel|/payment)?")
_ORDERS = "/v1/orders"
_HOST = b"host"
_IF_MATCH, _IDEMPOTENCY_KEY = b"if-match", b"idempotency-key"
# A header parameter's value as its HeaderParameter takes it (http/idempotency.py, http/preconditions.py): the key's
# pattern and lengths, If-Match's length. A value these refuse goes Litestar's way, which refuses it in its words.
_KEY = re.compile(f"[\x20-\x7e\xa1-\xac\xae-\xff]{{1,{MAX_KEY_LENGTH}}}")
_HEADER_VALUES: dict[bytes, Callable[[str], bool]] = {
    _IDEMPOTENCY_KEY: lambda value: _KEY.fullmatch(value) is not None,
    _IF_MATCH: lambda value: len(value) <= IF_MATCH_MAX_LENGTH,
}


@dataclass(frozen=True, slots=True)
class _Shape:
    """One hot route as this router knows it: where it is and what it reads."""

    method: str
    ending: str  # "" for /v1/orders, "/" for /v1/orders/{id}, or "/cancel", "/payment" after it
    operation_id: str  # the Litestar route it stands for, checked at start-up
    serve: Serve  # (request, **parameters) -> what the route's function returns
    query: Query = no_query
    header_parameters: tuple[bytes, ...] = ()  # each sent at most once, plainly valid, or Litestar's way
    has_body: bool = False


SHAPES = (
    _Shape("GET", "/", "getOrder", read_order),
    _Shape("GET", "", "listOrders", list_orders, plain_list_query),
    _Shape("POST", "", "createOrder", create_order, header_parameters=(_IDEMPOTENCY_KEY,), has_body=True),
    _Shape("DELETE", "/", "cancelOrder", delete_order, header_parameters=(_IF_MATCH, _IDEMPOTENCY_KEY)),
    _Shape("POST", "/cancel", "cancelOrderWithReason", cancel_order, header_parameters=(_IF_MATCH, _IDEMPOTENCY_KEY),
           has_body=True),
    _Shape("POST", "/payment", "payOrder", pay_order, header_parameters=(_IF_MATCH, _IDEMPOTENCY_KEY), has_body=True),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Route:
    shape: _Shape
    own: OwnRoute


class HotRoutes:
    """The hot routes of one app, found in its Litestar router at start-up."""

    def __init__(self, app: Litestar, rate_limits: RateLimits) -> None:
        self._rate_limits = rate_limits
        self._routes: dict[tuple[str, str], _Route] = {}
        for shape in SHAPES:
            path = _ORDERS if not shape.ending else f"{_ORDERS}/{SAMPLE_ID}{shape.ending.rstrip('/')}"
            found = own_route(app, shape.method, path, shape.operation_id, _the_gate_alone)
            self._routes[(shape.method, shape.ending)] = _Route(shape, found)

    def match(self, scope: AsgiScope) -> ASGIApp | None:
        """The hot route that answers this request, ready to run; None (having done nothing) for any other."""
        path: str = scope["path"]
        if not path.startswith(_ORDERS) or scope.get("root_path"):
            return None
        if path == _ORDERS:
            ending, path_params = "", {}
        elif found := _ONE_ORDER.fullmatch(path):
            ending, path_params = found.group(2) or "/", {"order_id": UUID(found.group(1))}
        else:
            return None
        route = self._routes.get((cast("HTTPScope", scope)["method"], ending))
        if route is None:
            return None
        headers = _plain_headers(scope, route.shape.header_parameters)
        query = route.shape.query(scope.get("query_string", b""))
        if headers is None or query is None:
            return None
        run = Run(route.own, route.shape.serve, {**path_params, **query, **headers}, path_params, route.shape.has_body)
        return partial(run_as_litestar, self._rate_limits, run)


def _the_gate_alone(middleware: list[Any]) -> bool:
    return len(middleware) == 1


def _plain_headers(scope: AsgiScope, parameters: tuple[bytes, ...]) -> dict[str, str | None] | None:
    """The route's header parameters by argument name (None when not sent), if each is sent at most once with a
    value its HeaderParameter takes, and the Host header is one Litestar's router takes (the first one)."""
    found: dict[str, str | None] = {name.decode().replace("-", "_"): None for name in parameters}
    host_seen = False
    for name, value in scope["headers"]:
        if name == _HOST and not host_seen:
            host_seen = True
            if not is_valid_host(value):
                return None
        elif name in parameters:
            argument, text = name.decode().replace("-", "_"), value.decode("latin-1")
            if found[argument] is not None or not _HEADER_VALUES[name](text):
                return None
            found[argument] = text
    return found
