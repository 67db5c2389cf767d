"""GET /metrics: the Prometheus scrape, answered only to the bearer of ORDERLINE_METRICS_TOKEN (ADR 0018)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler

from orderline.application.errors import Unauthenticated
from orderline.application.use_cases import UseCases
from orderline.http.dependencies import Injected
from orderline.http.metrics import Metrics

SCRAPER = "scraper"  # the route's authentication decision: not a principal, the bearer of a shared secret


def metrics_route(metrics: Metrics, token: str | None) -> HTTPRouteHandler:
    """The scrape route. The token is checked in memory, so a scrape answers while the database does not."""

    # async, though it awaits nothing: Litestar runs a synchronous guard in a worker thread.
    async def only_the_scraper(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if token is None:
            raise PermissionDeniedException(
                detail="metrics are off: set ORDERLINE_METRICS_TOKEN and send it as 'Authorization: Bearer <token>'"
            )
        scheme, _, sent = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
            raise Unauthenticated("send ORDERLINE_METRICS_TOKEN as 'Authorization: Bearer <token>'")

    # Not in the OpenAPI document: it is Prometheus's format for Prometheus, not part of the API.
    @get("/metrics", guards=[only_the_scraper], opt={"auth": SCRAPER}, include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any], use_cases: Injected[UseCases]) -> Response[bytes]:
        readings = await use_cases.operations.readings()
        body, content_type = metrics.exposition(readings, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    return scrape
