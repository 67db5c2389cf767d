"""Every route's explicit authentication decision: public, or the scope it needs.

The decision lives on the route (``opt["auth"]``), shows in the OpenAPI document as its security
requirement, and is enforced by one guard; the use cases check the same scopes again, because
dialects reach them without these routes.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from orderline.application.errors import Unauthenticated
from orderline.application.principal import Scope
from orderline.http.auth import outcome_of

PUBLIC = "public"
SECURITY_SCHEME = "bearerAuth"


async def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    # async although it awaits nothing: Litestar runs a sync guard in its thread pool, a hop on every request.
    decision = handler.opt.get("auth")
    if decision in (None, PUBLIC):
        return  # a public route that acts for its caller asks for the principal, and a bad credential is a 401 then
    outcome = outcome_of(connection.scope)
    if isinstance(outcome, Unauthenticated):
        raise outcome
    if outcome is not None:
        outcome.require(Scope(decision))


def public() -> dict[str, Any]:
    """Anyone may call it. Credentials matter only to a route that acts for its caller (placing an
    order, registering): there a refused credential is a 401, never silently anonymous."""
    return {"opt": {"auth": PUBLIC}, "guards": [_guard], "security": [{}, {SECURITY_SCHEME: []}]}


def needs(scope: Scope) -> dict[str, Any]:
    return {"opt": {"auth": str(scope)}, "guards": [_guard], "security": [{SECURITY_SCHEME: [str(scope)]}]}
