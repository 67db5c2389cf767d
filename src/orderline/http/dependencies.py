"""What route handlers receive by injection: the use cases and the caller."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.di import NamedDependency as Injected

from orderline.application.errors import InvalidTenant
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.http.auth import outcome_of, principal_of
from orderline.http.tenant import requested_tenant

# A handler parameter named like a provider below and marked Injected[...] receives that provider's value.
__all__ = ["PROVIDERS", "Caller", "Injected", "Tenant"]
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


def _use_cases(request: Request[Any, Any, Any]) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


PROVIDERS = {
    "use_cases": Provide(_use_cases, sync_to_thread=False),
    "principal": Provide(principal_of),
    "tenant": Provide(tenant_of),
}
