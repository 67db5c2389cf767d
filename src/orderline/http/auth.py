"""Authentication: the principal behind the Authorization header, or anonymous when there is none."""

from __future__ import annotations

from typing import Any

from litestar import Request

from orderline.application.errors import Unauthenticated
from orderline.application.principal import ANONYMOUS, Principal
from orderline.application.services import Services


async def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency: resolve ``Authorization: Bearer <key>``; a bad credential is never anonymous."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send credentials as 'Authorization: Bearer <key>'")
    services: Services = request.app.state.services
    return await services.api_keys.authenticate(token.strip())
