"""Every request, observed once by the front (http/front.py): one access line and its metrics.

The front wraps the app's whole ASGI handler, so 404s, 405s and the 429s that replace them are timed,
logged and counted too.
"""

from __future__ import annotations

import logging

import structlog
from litestar.types import HTTPScope

from orderline.http.metrics import Metrics
from orderline.http.request_id import request_id_of

log = structlog.get_logger("orderline.access")

CLIENT_CLOSED = 499  # no answer was sent because the client went away (nginx's convention)
# The wrappers logs.configure installs when the access line (info) is filtered out: building the line's logger
# through structlog's lazy proxy costs several microseconds per request for a line nobody writes (ADR 0039).
_QUIET = frozenset(structlog.make_filtering_bound_logger(level) for level in (logging.WARNING, logging.ERROR))


def observe(metrics: Metrics, scope: HTTPScope, path: str, status: int, seconds: float) -> None:
    """Count and log one answered request; ``path`` as it arrived, before routing rewrote it."""
    route = scope.get("path_template")
    metrics.observe(scope["method"], route, status, seconds)
    if structlog.get_config()["wrapper_class"] in _QUIET:
        return
    client = scope.get("client")
    log.info(
        "request",
        request_id=request_id_of(scope),
        method=scope["method"],
        path=path,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
        client=client[0] if client else None,
    )
