"""The one error map of the sFOX dialect: every refusal and failure as ``{"error": "..."}`` (ADR 0025)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.plugins.problem_details import ProblemDetailsException

from orderline.application import errors as app
from orderline.application.orders import MAX_BULK_CANCEL
from orderline.domain.errors import DomainError
from orderline.http.dialects.sfox.wire import SfoxErrorOut, json_response
from orderline.http.host import path_of

log = structlog.get_logger("orderline.http.sfox")

# The original page's answer for an order id that is not in the caller's account, taken for every route
# that names an order by its id (a 400, as the page shows).
NOT_IN_ACCOUNT = "internal error"
# The original page's answer when a bulk cancel finds nothing to cancel.
NONE_QUALIFY = "the order ids provided were invalid or the orders were already done/canceled"
# Ours, where the page is silent: an ``ids`` list we cannot read, or longer than the core takes at once.
IDS_REFUSED = f"ids: give 1 to {MAX_BULK_CANCEL} order ids, comma-separated, such as ids=1,2,3"
# Ours: a cancel whose refund the gateway refused at once leaves the order open, and is none of the page's answers.
NOT_CANCELED = "the order was not canceled: its refund was refused, and the order is open again"

# Lookup walks the exception's MRO, so the most specific class wins.
_STATUS: dict[type[Exception], int] = {
    app.ApplicationError: 400,
    app.Unauthenticated: 401,
    app.Forbidden: 403,
    app.StaleVersion: 409,
    app.DatabaseUnavailable: 503,
    DomainError: 409,
}
_HTTP_MESSAGES = {404: "not found", 405: "method not allowed"}


class SfoxRefusal(Exception):
    """A refusal the dialect itself words (a bulk cancel with nothing to cancel, ids it cannot read)."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def render_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """``exc`` as sFOX answers errors: its status and ``{"error": message}``, with the headers it carries."""
    status, message, headers = _describe(exc)
    if status >= 500 and not isinstance(exc, app.DatabaseUnavailable | HTTPException):
        log.error("unhandled error", method=request.method, path=path_of(request.scope), exc_info=exc)
    response = json_response(SfoxErrorOut(message), status)
    response.headers.update(headers)
    return response


def _describe(exc: Exception) -> tuple[int, str, dict[str, str]]:
    if isinstance(exc, SfoxRefusal):
        return exc.status_code, exc.message, {}
    if isinstance(exc, app.NotFound):
        return 400, NOT_IN_ACCOUNT, {}
    if isinstance(exc, app.ApplicationError | DomainError):
        return _status_of(exc), exc.message, _headers_of(exc)
    if isinstance(exc, ValidationException):
        return 400, _validation_message(exc), {}
    if isinstance(exc, HTTPException | ProblemDetailsException):
        detail = exc.detail if exc.detail and exc.detail != HTTPStatus(exc.status_code).phrase else ""
        message = detail or _HTTP_MESSAGES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower())
        return exc.status_code, message, dict(exc.headers or {})
    return 500, NOT_IN_ACCOUNT, {}  # sFOX's own words for a failure; the traceback goes to the log only


def _status_of(exc: Exception) -> int:
    return next(_STATUS[cls] for cls in type(exc).__mro__ if cls in _STATUS)


def _headers_of(exc: app.ApplicationError | DomainError) -> dict[str, str]:
    if isinstance(exc, app.Unauthenticated):
        return {"WWW-Authenticate": 'Bearer realm="orderline"'}
    if isinstance(exc, app.DatabaseUnavailable):
        return {"Retry-After": str(exc.retry_after)}
    return {}


def _validation_message(exc: ValidationException) -> str:
    """The first field a request got wrong, as ``field: message`` (Litestar's and our strict reader's)."""
    items = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    if not items:
        return str(exc.detail)
    field = items[0].get("key") or "body"
    return f"{field}: {items[0].get('message', 'invalid value')}"


_EXAMPLES = {
    400: [NOT_IN_ACCOUNT, NONE_QUALIFY, IDS_REFUSED],
    401: ["this operation needs credentials", "the API key is unknown or has been revoked"],
    403: ["this operation needs the scope 'write:orders'"],
    429: ["at most 300 writes per 60 seconds; try again in 42 seconds"],
    500: [NOT_IN_ACCOUNT],
    503: ["the database is not reachable"],
}


def error_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI responses for the error statuses an operation may answer, each ``{"error": "..."}``."""
    return {
        status: ResponseSpec(
            SfoxErrorOut,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
            examples=[Example(summary=message, value={"error": message}) for message in _EXAMPLES[status]],
        )
        for status in statuses
    }
