"""What route handlers receive by injection: the use cases and the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from orderline.application.principal import Principal
from orderline.application.services import Services
from orderline.http.auth import principal_of

UseCases = NamedDependency[Services]
Caller = NamedDependency[Principal]


def _services(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


PROVIDERS = {
    "services": Provide(_services, sync_to_thread=False),
    "principal": Provide(principal_of),
}
