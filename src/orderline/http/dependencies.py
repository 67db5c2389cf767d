"""What route handlers receive by injection: the use cases and the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.di import NamedDependency as Injected

from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.http.auth import principal_of

# A handler parameter named like a provider below and marked Injected[...] receives that provider's value.
__all__ = ["PROVIDERS", "Caller", "Injected"]
Caller = NamedDependency[Principal]


def _use_cases(request: Request[Any, Any, Any]) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


PROVIDERS = {
    "use_cases": Provide(_use_cases, sync_to_thread=False),
    "principal": Provide(principal_of),
}
