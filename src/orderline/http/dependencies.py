"""What route handlers receive: the use cases and the caller, by injection or, on the hot routes, from the request.

Litestar resolves a handler's dependencies per request (a kwargs model, a batch per level, each value parsed
again by the handler's signature model); the order routes that carry most of the traffic take the request
instead and ask ``use_cases_of`` and ``caller_of``, which do the same without that machinery (ADR 0039).
Dependencies are not part of the OpenAPI document, so the two forms document a route alike.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.di import NamedDependency as Injected

from orderline.application.errors import InvalidTenant
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.http.auth import outcome_of, principal_in, principal_of
from orderline.http.tenant import requested_tenant

# A handler parameter named like a provider below and marked Injected[...] receives that provider's value.
__all__ = ["PROVIDERS", "Caller", "Injected", "Tenant", "caller_of", "use_cases_of"]
Caller = NamedDependency[Principal]
Tenant = NamedDependency[UUID]


async def tenant_of(request: Request[Any, Any, Any]) -> UUID:
    """The tenant a public route reads in (ADR 0040), where a refused credential does not matter: the caller's
    (a credential of a tenant wins), else the one X-Tenant-ID names; an invalid X-Tenant-ID is a 400."""
    outcome = outcome_of(request.scope)
    if isinstance(outcome, Principal):
        return outcome.tenant
    if isinstance(outcome, InvalidTenant):
        raise outcome
    return requested_tenant(request.scope)


def use_cases_of(request: Request[Any, Any, Any]) -> UseCases:
    """The app's use cases (what the ``use_cases`` dependency gives)."""
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


async def caller_of(request: Request[Any, Any, Any]) -> Principal:
    """The request's principal (what the ``principal`` dependency gives): a refused credential is a 401, an
    invalid X-Tenant-ID a 400."""
    return await principal_in(request.scope)


PROVIDERS = {
    "use_cases": Provide(use_cases_of, sync_to_thread=False),
    "principal": Provide(principal_of),
    "tenant": Provide(tenant_of),
}
