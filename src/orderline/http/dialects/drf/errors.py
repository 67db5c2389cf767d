"""The one error map of the DRF dialect: every refusal and failure as DRF and simplejwt word them (ADR 0026).

DRF answers ``{"detail": "..."}``, and a serializer's refusals as ``{"field": ["..."]}`` (nested for a nested
serializer); simplejwt adds ``code`` to its own, and ``messages`` when it refuses a request's token.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from orderline.application import errors as app
from orderline.domain import errors as domain
from orderline.http.answer import JsonAnswer
from orderline.http.auth import outcome_of
from orderline.http.dialects.drf.wire import DrfDetailOut
from orderline.http.host import InvalidHost, path_of

log = structlog.get_logger("orderline.http.drf")

NOT_PROVIDED = "Authentication credentials were not provided."
PERMISSION_DENIED = "You do not have permission to perform this action."
NOT_FOUND = "Not found."
SERVER_ERROR = "A server error occurred."
NO_ACCOUNT = "No active account found with the given credentials"
TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - simplejwt's error code, not a secret
INVALID_OR_EXPIRED = "Token is invalid or expired"
WRONG_TYPE = "Token has wrong type"
# The original returns 403 with an empty body here; DRF's shape, with what the client can do (ADR 0026).
NOT_EDITABLE = "Only an order awaiting payment can be changed."
_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="api"'}  # simplejwt's JWTAuthentication.authenticate_header
# The model Django's get_object_or_404 names in "No Order matches the given query.", by the core's entity.
_MODELS = {"order": "Order", "item": "OrderItem"}
# The address fields the core names, as the original's serializer names them.
_ADDRESS_FIELDS = {"line1": "street_address", "line2": "street_address"}


class BadAuthorizationHeader(app.Unauthenticated):
    """``Authorization: Bearer`` with no token, or with more than one value."""


Body = dict[str, Any]


def render_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """``exc`` as the DRF shop answers it: its status, body and headers."""
    status, body, headers = _describe(request, exc)
    if status == 500:
        log.error("unhandled error", method=request.method, path=path_of(request.scope), exc_info=exc)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _describe(request: Request[Any, Any, Any], exc: Exception) -> tuple[int, Body, dict[str, str]]:
    if isinstance(exc, app.Unauthenticated):
        return 401, _unauthenticated(request, exc), _AUTHENTICATE
    if isinstance(exc, app.ApplicationError | domain.DomainError):
        return _refusal(exc)
    if isinstance(exc, ValidationException):
        return 400, _validation_body(exc), {}
    if isinstance(exc, HTTPException):
        return exc.status_code, {"detail": _http_detail(request, exc)}, dict(exc.headers or {})
    return 500, {"detail": SERVER_ERROR}, {}


# Refusals of the core by class, the most specific first along the MRO: the status, and DRF's words where
# the core's would not be the original's.
_REFUSALS: dict[type[Exception], tuple[int, str | None]] = {
    app.ApplicationError: (400, None),
    domain.DomainError: (400, None),
    app.Forbidden: (403, PERMISSION_DENIED),
    domain.OrderNotEditable: (403, NOT_EDITABLE),
    app.StaleVersion: (409, None),
    app.PreconditionFailed: (409, None),
}


def _refusal(exc: app.ApplicationError | domain.DomainError) -> tuple[int, Body, dict[str, str]]:
    if isinstance(exc, app.NotFound):
        return 404, {"detail": f"No {_MODELS.get(exc.details.get('entity', ''), 'Order')} matches the given query."}, {}
    if isinstance(exc, app.InvalidInput):
        return 400, _field_error(exc.field, exc.message), {}
    if isinstance(exc, domain.InvalidAddress):
        field = str(exc.details.get("field", "non_field_errors"))
        return 400, {"billing_address": _field_error(_ADDRESS_FIELDS.get(field, field), exc.message)}, {}
    if isinstance(exc, app.DatabaseUnavailable):
        return 503, {"detail": _sentence(exc.message)}, {"Retry-After": str(exc.retry_after)}
    status, words = next(_REFUSALS[cls] for cls in type(exc).__mro__ if cls in _REFUSALS)
    return status, {"detail": words or _sentence(exc.message)}, {}


def _unauthenticated(request: Request[Any, Any, Any], exc: app.Unauthenticated) -> Body:
    """simplejwt's words: for the request's own token (JWTAuthentication), and for the token views' input."""
    if exc is outcome_of(request.scope):  # the request's credential was refused
        if isinstance(exc, BadAuthorizationHeader):
            return {"detail": exc.message, "code": "bad_authorization_header"}
        if isinstance(exc, app.AccountInactive):
            return {"detail": "User is inactive", "code": "user_inactive"}
        message = WRONG_TYPE if isinstance(exc, app.WrongTokenType) else INVALID_OR_EXPIRED
        return {
            "detail": "Given token not valid for any token type",
            "code": TOKEN_NOT_VALID,
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
        }
    if isinstance(exc, app.CredentialsRequired):
        return {"detail": NOT_PROVIDED}
    if isinstance(exc, app.WrongCredentials):
        return {"detail": NO_ACCOUNT}
    if isinstance(exc, app.AccountInactive):
        return {"detail": "No active account found for the given token.", "code": "no_active_account"}
    message = WRONG_TYPE if isinstance(exc, app.WrongTokenType) else INVALID_OR_EXPIRED
    return {"detail": message, "code": TOKEN_NOT_VALID}


def _http_detail(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    """DRF's own texts for what the framework refuses before a view runs."""
    if exc.status_code == 404:
        return NOT_FOUND
    if exc.status_code == 405:
        return f'Method "{request.method}" not allowed.'
    if exc.status_code == 415:
        return f'Unsupported media type "{request.headers.get("content-type", "")}" in request.'
    if exc.status_code == 429:
        wait = (exc.headers or {}).get("Retry-After", "")
        return f"Request was throttled. Expected available in {wait} second{'' if wait == '1' else 's'}."
    if exc.status_code == 400 and not isinstance(exc, InvalidHost):
        return f"JSON parse error - {exc.detail}"
    phrase = HTTPStatus(exc.status_code).phrase
    return _sentence(exc.detail if exc.detail and exc.detail != phrase else phrase)


def _validation_body(exc: ValidationException) -> Body:
    """Each field a request got wrong as DRF names it: ``{"field": ["..."]}``, nested along the field's path."""
    body: Body = {}
    items = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    for item in items or [{"key": "non_field_errors", "message": str(exc.detail)}]:
        path = [part for part in re.split(r"[.\[\]]+", str(item.get("key") or "")) if part] or ["non_field_errors"]
        if path == ["body"]:
            path = ["non_field_errors"]
        message = "This field is required." if item.get("code") == "required" else _sentence(item.get("message"))
        _merge(body, path, message)
    return body


def _merge(body: Body, path: list[str], message: str) -> None:
    for part in path[:-1]:
        nested = body.setdefault(part, {})
        if not isinstance(nested, dict):
            return  # the field already has an error of its own: one is enough
        body = nested
    existing = body.setdefault(path[-1], [])
    if isinstance(existing, list):
        existing.append(message)


def _field_error(field: str, message: str) -> Body:
    return {field: ["This field is required." if message == "this field is required" else _sentence(message)]}


def _sentence(text: object) -> str:
    """DRF's messages are sentences: a capital first letter, a full stop at the end."""
    words = str(text or "invalid value").strip()
    words = words[:1].upper() + words[1:]
    return words if words.endswith((".", "?", "!")) else words + "."


def json_response(body: msgspec.Struct, status: int = 200) -> Response[Any]:
    """A JSON answer, sent as it is (http/answer.py: what Litestar's Response sends, without its ASGIResponse)."""
    return JsonAnswer(body, status_code=status, media_type="application/json")


_EXAMPLES: dict[int, list[Body]] = {
    400: [{"billing_address": {"country": ["Expected `str` of length <= 2."]}}, {"offset": ["Must be 0 to 10000."]}],
    401: [
        {"detail": NOT_PROVIDED},
        {
            "detail": "Given token not valid for any token type",
            "code": TOKEN_NOT_VALID,
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": INVALID_OR_EXPIRED}],
        },
    ],
    403: [{"detail": NOT_EDITABLE}, {"detail": PERMISSION_DENIED}],
    404: [{"detail": "No Order matches the given query."}],
    405: [{"detail": 'Method "POST" not allowed.'}],
    409: [{"detail": "The order has changed; read it again before changing it."}],
    413: [{"detail": "Send a body of at most 1048576 bytes."}],
    415: [{"detail": 'Unsupported media type "text/plain" in request.'}],
    429: [{"detail": "Request was throttled. Expected available in 42 seconds."}],
    500: [{"detail": SERVER_ERROR}],
    503: [{"detail": "The database is not reachable."}],
}


def error_specs(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI responses for the error statuses an operation may answer (400, 429, 500 always)."""
    return {
        status: ResponseSpec(
            dict[str, Any] if status == 400 else DrfDetailOut,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
            examples=[Example(summary=str(i), value=example) for i, example in enumerate(_EXAMPLES[status])],
        )
        for status in sorted({400, 429, 500, *statuses})
    }
