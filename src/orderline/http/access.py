"""Every route's explicit authentication decision: public, or the scope it needs.

The decision lives on the route (``opt["auth"]``), shows in the OpenAPI document as its security
requirement, and is enforced by the gate (http/gate.py); the use cases check the same scopes again, because
dialects reach them without these routes.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Scope as AsgiScope

from orderline.application.errors import InvalidTenant, Unauthenticated
from orderline.application.principal import Scope
from orderline.http.auth import outcome_of

ANYONE = "public"  # a route anyone may call (not the public pool of tenants: principal.PUBLIC)
SECURITY_SCHEME = "bearerAuth"
_SCOPES = frozenset(scope.value for scope in Scope)


def enforce(decision: Any, scope: AsgiScope) -> None:
    """The route's decision (``opt["auth"]``) for this request, after authentication and rate limits and before
    the body is read, where a guard would run: 401 for a refused credential, 403 for a missing scope. Not a
    Litestar guard: Litestar copies the route handler for every guard call, a cost on every request for a
    check that reads one key (ADR 0033)."""
    if decision not in _SCOPES:
        # Public: a route that acts for its caller asks for the principal, and a bad credential is a 401 then.
        # Or a route that checks a credential of its own (the metrics scrape's token, by its own guard).
        return
    outcome = outcome_of(scope)
    if isinstance(outcome, Unauthenticated | InvalidTenant):  # InvalidTenant: a bad X-Tenant-ID (ADR 0040)
        raise outcome
    if outcome is not None:
        outcome.require(Scope(decision))


def public() -> dict[str, Any]:
    """Anyone may call it. Credentials matter only to a route that acts for its caller (placing an
    order, registering): there a refused credential is a 401, never silently anonymous."""
    return {"opt": {"auth": ANYONE}, "security": [{}, {SECURITY_SCHEME: []}]}


def needs(scope: Scope) -> dict[str, Any]:
    return {"opt": {"auth": str(scope)}, "security": [{SECURITY_SCHEME: [str(scope)]}]}
