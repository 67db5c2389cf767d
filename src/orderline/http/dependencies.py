"""What route handlers receive: the use cases and the caller, by injection or, on the hot routes, from the request.

Litestar resolves a handler's dependencies per request (a kwargs model, a batch per level, each value parsed
again by the handler's signature model); the order routes that carry most of the traffic take the request
instead and ask ``use_cases_of`` and ``caller_of``, which do the same without that machinery (ADR 0039).
Dependencies are not part of the OpenAPI document, so the two forms document a route alike.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.di import NamedDependency as Injected

from orderline.application.errors import Unauthenticated
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.http.auth import authenticate, outcome_of, principal_of

# A handler parameter named like a provider below and marked Injected[...] receives that provider's value.
__all__ = ["PROVIDERS", "Caller", "Injected", "caller_of", "use_cases_of"]
Caller = NamedDependency[Principal]


def use_cases_of(request: Request[Any, Any, Any]) -> UseCases:
    """The app's use cases (what the ``use_cases`` dependency gives)."""
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


async def caller_of(request: Request[Any, Any, Any]) -> Principal:
    """The request's principal (what the ``principal`` dependency gives): a refused credential is a 401."""
    outcome = outcome_of(request.scope) or await authenticate(request.scope)
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


PROVIDERS = {
    "use_cases": Provide(use_cases_of, sync_to_thread=False),
    "principal": Provide(principal_of),
}
