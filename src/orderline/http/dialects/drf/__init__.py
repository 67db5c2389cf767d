"""The Django REST Framework shop (``Klvxn/ecommerce-API``), mounted at ``/api/v1`` (ADR 0026)."""

from __future__ import annotations

from orderline.http.dialects import Dialect
from orderline.http.dialects.drf.auth import jwt_credential
from orderline.http.dialects.drf.errors import render_error
from orderline.http.dialects.drf.fast import DrfFastRoutes
from orderline.http.dialects.drf.routes import ROUTES

DIALECT = Dialect(
    name="drf",
    prefix="/api/v1",
    tag="Django REST shop",
    route_handlers=ROUTES,
    render_error=render_error,
    credential=jwt_credential,
    trailing_slash=True,
    fast_routes=DrfFastRoutes,
)
