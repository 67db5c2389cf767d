"""The one error map: every refusal and failure under the mount as Shoplazza's ``{"errors": [...]}``.

Statuses are Shoplazza's (its 2022-01 reference lists 400, 401, 403, 404, 405, 406, 422, 429 and 500):
a cancel the order's status refuses is 406, a value that does not fit is 422 (ADR 0024).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from orderline.application import errors as app
from orderline.domain import errors as domain
from orderline.domain.status import OrderStatus
from orderline.http.dialects.shoplazza.auth import HEADER
from orderline.http.dialects.shoplazza.mapping import STATUS, ShoplazzaStatus
from orderline.http.dialects.shoplazza.wire import ShoplazzaErrors
from orderline.http.host import path_of
from orderline.http.request_id import request_id_of

log = structlog.get_logger("orderline.shoplazza")

NOT_FOUND = "Unable to find resource"  # the page's own words
REQUEST_ID = "Request-Id"  # Shoplazza's echo of the request id, on every response under the mount
INTERNAL = f"internal error; quote the {REQUEST_ID} header when reporting it"

# Looked up along the exception's MRO, so the most specific class wins.
STATUSES: dict[type[Exception], int] = {
    domain.DomainError: 422,
    domain.OrderNotCancellable: 406,
    domain.IllegalTransition: 406,
    app.ApplicationError: 400,
    app.NotFound: 404,
    app.Unauthenticated: 401,
    app.Forbidden: 403,
    app.InvalidInput: 422,
    app.StaleVersion: 409,
    app.PreconditionFailed: 409,
    app.DatabaseUnavailable: 503,
}


def render_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ShoplazzaErrors]:
    """The Dialect's error renderer: our refusals, Litestar's own, a 429, and anything unexpected (a bare 500)."""
    if isinstance(exc, domain.DomainError | app.ApplicationError):
        status, messages, headers = _refusal(exc)
    elif isinstance(exc, ValidationException):
        status, messages, headers = 422, _invalid(exc), {}
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, headers = exc.status_code, dict(exc.headers or {})
        messages = [NOT_FOUND if status == 404 else _detail(exc)]
    elif isinstance(exc, HTTPException) and exc.status_code == 503:
        status, messages, headers = 503, [_detail(exc)], dict(exc.headers or {})
    else:
        log.error("unhandled error", method=request.method, path=path_of(request.scope), exc_info=exc)
        status, messages, headers = 500, [INTERNAL], {}
    return answer(request, ShoplazzaErrors(messages), status, headers)


def answer(
    request: Request[Any, Any, Any], body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    """Every response under the mount carries Shoplazza's Request-Id header (the same id as X-Request-Id)."""
    headers = {**(headers or {}), REQUEST_ID: request_id_of(request.scope)}
    return Response(body, status_code=status, headers=headers)


def _refusal(exc: domain.DomainError | app.ApplicationError) -> tuple[int, list[str], dict[str, str]]:
    status = next(STATUSES[cls] for cls in type(exc).__mro__ if cls in STATUSES)
    headers: dict[str, str] = {}
    if isinstance(exc, app.Unauthenticated):
        headers["WWW-Authenticate"] = f'{HEADER} realm="orderline"'
    if isinstance(exc, app.DatabaseUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, app.NotFound):
        return status, [NOT_FOUND], headers
    if isinstance(exc, app.InvalidInput):
        return status, [f"{exc.field}: {exc.message}"], headers
    if isinstance(exc, domain.OrderNotCancellable):
        return status, [_not_cancellable(exc)], headers
    return status, [exc.message], headers


def _not_cancellable(exc: domain.OrderNotCancellable) -> str:
    """Named in Shoplazza's words: the order's status and fulfillment_status."""
    status, fulfillment = STATUS[OrderStatus(exc.details["current_status"])]
    if status is ShoplazzaStatus.CANCELLED:
        return "the order is already cancelled (status cancelled)"
    return f"the order cannot be cancelled: its status is {status} and its fulfillment_status {fulfillment}"


def _invalid(exc: ValidationException) -> list[str]:
    items = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    return [f"{item.get('key') or 'body'}: {item.get('message', 'invalid value')}" for item in items] or [_detail(exc)]


def _detail(exc: HTTPException) -> str:
    phrase = HTTPStatus(exc.status_code).phrase
    return exc.detail if exc.detail and exc.detail != phrase else phrase
