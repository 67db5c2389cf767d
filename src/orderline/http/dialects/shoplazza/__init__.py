"""Shoplazza Open API 2022-01, mounted at /openapi/2022-01: an API key in Access-Token, snake_case orders (ADR 0024)."""

from __future__ import annotations

from orderline.http.dialects import Dialect
from orderline.http.dialects.shoplazza.auth import SCHEME, SECURITY_SCHEME, access_token
from orderline.http.dialects.shoplazza.errors import REQUEST_ID, render_error
from orderline.http.dialects.shoplazza.routes import ShoplazzaOrders

DIALECT = Dialect(
    name="shoplazza",
    prefix="/openapi/2022-01",
    tag="Shoplazza Open API 2022-01",
    route_handlers=[ShoplazzaOrders],
    render_error=render_error,
    credential=access_token,
    security_schemes={SECURITY_SCHEME: SCHEME},
    request_id_header=REQUEST_ID,
)
