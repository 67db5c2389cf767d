"""Every route makes an explicit authentication decision, and the OpenAPI document states it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from orderline.application.principal import Scope
from orderline.config import Settings
from orderline.http.access import ANYONE, SECURITY_SCHEME
from orderline.http.api.metrics import SCRAPER
from orderline.http.app import create_app
from orderline.http.dashboard.session import STAFF_SESSION
from orderline.http.dialects.shoplazza import auth as shoplazza

# Public, a scope, or the scraper's shared secret (GET /metrics, ADR 0018).
KNOWN = {ANYONE, SCRAPER, STAFF_SESSION, *(scope.value for scope in Scope)}
# The schemes an operation may name: the native bearer, and the dialects' own credentials.
SCHEMES = {SECURITY_SCHEME, shoplazza.SECURITY_SCHEME}
# Served by Litestar itself, outside /v1: the OpenAPI document and its viewers.
FRAMEWORK = "/schema"
# What support staff may do through the admin API (issue 12): read every order, its events and the audit log;
# cancel, force-cancel, ship, deliver. Never erase, export, users, keys, vouchers, the shop's figures.
SUPPORT_ROUTES = {
    "['GET'] /v1/admin/orders",
    "['POST'] /v1/admin/orders/{order_id:uuid}/force-cancel",
    "['POST'] /v1/admin/orders/{order_id:uuid}/ship",
    "['POST'] /v1/admin/orders/{order_id:uuid}/deliver",
    "['GET'] /v1/admin/audit-logs",
    "['GET'] /v1/admin/audit-logs/{entry_id:uuid}",
    "['GET'] /v1/admin/events",
}


async def _no_use_cases() -> Any:
    raise AssertionError("route inspection must not need a database")


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(Settings(), _no_use_cases)


def _handlers(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        if route.path.startswith(FRAMEWORK):
            continue
        for handler in getattr(route, "route_handlers", []):
            # Litestar answers OPTIONS on every path by itself (the Allow header); we declare none.
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                found.append((f"{sorted(handler.http_methods)} {route.path}", handler))
    return found


def test_every_route_decides_who_may_call_it(app: Litestar) -> None:
    handlers = _handlers(app)

    undecided = [name for name, handler in handlers if handler.opt.get("auth") not in KNOWN]

    assert handlers
    assert undecided == [], f"routes without an explicit authentication decision: {undecided}"


def test_every_operation_documents_its_security_requirement(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, f"{method.upper()} {path}"
            for requirement in operation["security"]:
                assert set(requirement) <= SCHEMES, f"{method.upper()} {path}"
    assert set(document["components"]["securitySchemes"]) >= SCHEMES


def test_the_admin_api_requires_the_admin_scope_on_every_route_but_the_orders_support_staff_act_on(
    app: Litestar,
) -> None:
    admin = {name: handler.opt["auth"] for name, handler in _handlers(app) if "/v1/admin" in name}

    assert admin
    assert {name for name, decision in admin.items() if decision == Scope.SUPPORT.value} == SUPPORT_ROUTES
    assert all(decision == Scope.ADMIN.value for name, decision in admin.items() if name not in SUPPORT_ROUTES)


def test_every_shoplazza_operation_asks_for_its_access_token_with_the_scope_its_route_needs(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    handlers = {name: handler for name, handler in _handlers(app) if "/openapi/2022-01" in name}

    operations = [
        (operation, method) for path, item in document["paths"].items() if path.startswith("/openapi/2022-01")
        for method, operation in item.items()
    ]  # fmt: skip

    assert len(operations) == len(handlers) == 5
    for operation, method in operations:
        (requirement,) = operation["security"]
        assert set(requirement) == {shoplazza.SECURITY_SCHEME}
        assert requirement[shoplazza.SECURITY_SCHEME] == [Scope.READ_ORDER if method == "get" else Scope.WRITE_ORDER]
    assert {handler.opt["auth"] for handler in handlers.values()} == {Scope.READ_ORDER, Scope.WRITE_ORDER}
