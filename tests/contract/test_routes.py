"""Every route makes an explicit authentication decision, and the OpenAPI document states it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from orderline.application.principal import Scope
from orderline.config import Settings
from orderline.http.access import PUBLIC, SECURITY_SCHEME
from orderline.http.api.metrics import SCRAPER
from orderline.http.app import create_app

# Public, a scope, or the scraper's shared secret (GET /metrics, ADR 0018).
KNOWN = {PUBLIC, SCRAPER, *(scope.value for scope in Scope)}
# Served by Litestar itself, outside /v1: the OpenAPI document and its viewers.
FRAMEWORK = "/schema"


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
                assert set(requirement) <= {SECURITY_SCHEME}, f"{method.upper()} {path}"
    assert SECURITY_SCHEME in document["components"]["securitySchemes"]


def test_the_admin_api_requires_the_admin_scope_on_every_route(app: Litestar) -> None:
    admin = [(name, handler) for name, handler in _handlers(app) if "/v1/admin" in name]

    assert admin
    assert all(handler.opt["auth"] == Scope.ADMIN.value for _, handler in admin)
