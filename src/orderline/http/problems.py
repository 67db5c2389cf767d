"""The one table from error classes to RFC 9457 problem types, and the response it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsException

from orderline.application import errors as app
from orderline.application import event_stream, gateway, idempotency
from orderline.domain import errors as domain
from orderline.http.host import path_of

MEDIA_TYPE = "application/problem+json"
DEFAULT_BASE_URI = "https://petstoreapi.com/errors/"


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str


def _p(slug: str, status: HTTPStatus, title: str | None = None) -> ProblemType:
    return ProblemType(slug, int(status), title or status.phrase)


# Lookup walks the exception's MRO, so the most specific class wins.
PROBLEMS: dict[type[Exception], ProblemType] = {
    domain.DomainError: _p("domain-rule-refused", HTTPStatus.CONFLICT, "Request refused"),
    domain.UnknownCurrency: _p("unknown-currency", HTTPStatus.UNPROCESSABLE_ENTITY, "Unknown currency"),
    domain.InvalidAmount: _p("invalid-amount", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid amount"),
    domain.CurrencyMismatch: _p("currency-mismatch", HTTPStatus.UNPROCESSABLE_ENTITY, "Currency mismatch"),
    domain.InvalidOrder: _p("invalid-order", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid order"),
    domain.TotalMismatch: _p("total-mismatch", HTTPStatus.UNPROCESSABLE_ENTITY, "Total mismatch"),
    domain.OutOfStock: _p("out-of-stock", HTTPStatus.CONFLICT, "Out of stock"),
    domain.StockBelowCommitted: _p("stock-below-committed", HTTPStatus.CONFLICT, "Stock below committed units"),
    domain.PetReserved: _p("pet-reserved", HTTPStatus.CONFLICT, "Pet reserved by open orders"),
    domain.IllegalTransition: _p("illegal-transition", HTTPStatus.CONFLICT, "Illegal status change"),
    domain.OrderNotCancellable: _p("order-not-cancellable", HTTPStatus.CONFLICT, "Order not cancellable"),
    domain.OrderNotEditable: _p("order-not-editable", HTTPStatus.CONFLICT, "Order not editable"),
    domain.InvalidUser: _p("invalid-user", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid user"),
    domain.WeakPassword: _p("weak-password", HTTPStatus.UNPROCESSABLE_ENTITY, "Weak password"),
    domain.InvalidVoucher: _p("invalid-voucher", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid voucher"),
    domain.VoucherNotApplicable: _p(
        "voucher-not-applicable", HTTPStatus.UNPROCESSABLE_ENTITY, "Voucher not applicable"
    ),
    domain.InvalidAddress: _p("invalid-address", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid address"),
    domain.InvalidCard: _p("invalid-card", HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid card"),
    domain.OrderNotPayable: _p("order-not-payable", HTTPStatus.CONFLICT, "Order not payable"),
    domain.PaymentMismatch: _p("payment-mismatch", HTTPStatus.UNPROCESSABLE_ENTITY, "Payment does not match the order"),
    domain.PaymentInProgress: _p("payment-in-progress", HTTPStatus.CONFLICT, "Payment in progress"),
    domain.PaymentDeclined: _p("payment-declined", HTTPStatus.PAYMENT_REQUIRED, "Payment declined"),
    gateway.InvalidCallback: _p("invalid-signature", HTTPStatus.UNAUTHORIZED, "Invalid signature"),
    app.ApplicationError: _p("bad-request", HTTPStatus.BAD_REQUEST),
    app.InvalidTenant: _p("invalid-tenant", HTTPStatus.BAD_REQUEST, "Invalid tenant"),
    app.NotFound: _p("not-found", HTTPStatus.NOT_FOUND),
    app.PetNotFound: _p("pet-not-found", HTTPStatus.NOT_FOUND, "Pet not found"),
    app.Unauthenticated: _p("unauthorized", HTTPStatus.UNAUTHORIZED),
    app.Forbidden: _p("forbidden", HTTPStatus.FORBIDDEN),
    app.StaleVersion: _p("concurrent-modification", HTTPStatus.CONFLICT, "Concurrent modification"),
    app.InvalidInput: _p("validation-error", HTTPStatus.UNPROCESSABLE_ENTITY, "Validation Error"),
    app.DuplicateUser: _p("user-exists", HTTPStatus.CONFLICT, "User exists"),
    app.DuplicateVoucher: _p("voucher-exists", HTTPStatus.CONFLICT, "Voucher exists"),
    app.InvalidWebhook: _p("invalid-webhook", HTTPStatus.BAD_REQUEST, "Invalid webhook"),
    app.WebhookInactive: _p("webhook-inactive", HTTPStatus.CONFLICT, "Webhook inactive"),
    app.PreconditionFailed: _p("precondition-failed", HTTPStatus.PRECONDITION_FAILED),
    app.DatabaseUnavailable: _p("service-unavailable", HTTPStatus.SERVICE_UNAVAILABLE),
    idempotency.IdempotencyKeyReused: _p(
        "idempotency-key-reused", HTTPStatus.UNPROCESSABLE_ENTITY, "Idempotency key reused"
    ),
    idempotency.IdempotencyKeyInUse: _p("idempotency-key-in-use", HTTPStatus.CONFLICT, "Idempotency key in use"),
    event_stream.TooManyStreams: _p("too-many-streams", HTTPStatus.TOO_MANY_REQUESTS, "Too many live streams"),
}  # fmt: skip

# Problems the HTTP layer raises itself, by status.
HTTP_PROBLEMS: dict[int, ProblemType] = {
    400: _p("bad-request", HTTPStatus.BAD_REQUEST),
    401: PROBLEMS[app.Unauthenticated],
    403: PROBLEMS[app.Forbidden],
    404: PROBLEMS[app.NotFound],
    405: _p("method-not-allowed", HTTPStatus.METHOD_NOT_ALLOWED),
    413: _p("content-too-large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Content Too Large"),
    415: _p("unsupported-media-type", HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
    422: PROBLEMS[app.InvalidInput],
    429: _p("rate-limit-exceeded", HTTPStatus.TOO_MANY_REQUESTS),
    500: _p("internal-server-error", HTTPStatus.INTERNAL_SERVER_ERROR),
    503: PROBLEMS[app.DatabaseUnavailable],
}


_KNOWN_SLUGS = frozenset(p.slug for p in [*PROBLEMS.values(), *HTTP_PROBLEMS.values()])


def problem_type_of(exc: Exception) -> ProblemType:
    for cls in type(exc).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    raise LookupError(f"{type(exc).__name__} has no problem type")


def every_problem_type() -> list[ProblemType]:
    unique = {p.slug: p for p in [*PROBLEMS.values(), *HTTP_PROBLEMS.values()]}
    return sorted(unique.values(), key=lambda p: p.slug)


def problem_body(
    problem: ProblemType, detail: str, instance: str, base_uri: str = DEFAULT_BASE_URI, **extra: Any
) -> dict[str, Any]:
    """Every problem carries ``code``, its slug, so that clients can match on it whatever the base URI."""
    return {
        "type": base_uri + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
        "instance": instance,
        "code": problem.slug,
        **extra,
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Problem(ProblemDetailsException):
    """A problem whose ``instance`` is the path of the request it answers."""

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        self.instance = self.instance or path_of(request.scope)
        return super().to_response(request)


def _exception(
    problem: ProblemType,
    detail: str,
    base_uri: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Problem:
    # RFC 9457 §4.2.1: a status with no type of its own is "about:blank"; its code still names it.
    type_uri = "about:blank" if problem.slug not in _KNOWN_SLUGS else base_uri + problem.slug
    return Problem(
        detail=detail,
        status_code=problem.status,
        headers=headers,
        extra={"code": problem.slug, **extra},
        type_=type_uri,
        title=problem.title,
    )


def refusal_to_problem(exc: domain.DomainError | app.ApplicationError, base_uri: str) -> Problem:
    """A rule refusal or an application refusal, with its details as extension members."""
    problem = problem_type_of(exc)
    details = {_camel(k): v for k, v in exc.details.items()}
    if isinstance(exc, app.InvalidInput):
        errors = [{"field": exc.field, "message": exc.message, "code": exc.kind}]
        return _exception(problem, exc.message, base_uri, errors=errors)
    headers = {"WWW-Authenticate": 'Bearer realm="orderline"'} if isinstance(exc, app.Unauthenticated) else None
    if isinstance(exc, app.DatabaseUnavailable | event_stream.TooManyStreams):
        headers = {"Retry-After": str(exc.retry_after)}
    return _exception(problem, exc.message, base_uri, headers, **details)


_DEFAULT_DETAIL = {
    404: "no such resource",
    405: "this resource does not support that method",
    413: "the request body is larger than this server takes",
}


def http_to_problem(exc: HTTPException, base_uri: str) -> Problem:
    """Litestar's own refusals (unknown route, wrong method, invalid body) as problems."""
    if isinstance(exc, ValidationException):
        return validation_to_problem(exc, base_uri)
    status = HTTPStatus(exc.status_code)
    detail = exc.detail if exc.detail and exc.detail != status.phrase else ""
    detail = detail or _DEFAULT_DETAIL.get(exc.status_code, status.phrase)
    problem = HTTP_PROBLEMS.get(exc.status_code) or _p(status.phrase.lower().replace(" ", "-"), status)
    return _exception(problem, detail, base_uri, exc.headers)


def validation_to_problem(exc: ValidationException, base_uri: str) -> Problem:
    """msgspec's and Litestar's validation failures: 422 with ``errors: [{field, message, code}]``."""
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in items if isinstance(item, dict)]
    if not errors:
        errors = [{"field": "body", "message": str(exc.detail), "code": "invalid"}]
    return _exception(HTTP_PROBLEMS[422], "the request is not valid", base_uri, errors=errors)


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    """An error phrased by us (``code`` given) as it is; one of Litestar's parsed out of its message."""
    message = str(item.get("message", "invalid value"))
    key = str(item.get("key") or "")
    if "code" in item:
        return {"field": key or "body", "message": message, "code": str(item["code"])}
    text, _, at = message.partition(" - at `$.")
    if at:
        message, key = text, at.rstrip("`")
    if item.get("source") == "header":  # a header parameter is named after its header: if_match is If-Match
        return {"field": "-".join(part.title() for part in key.split("_")), "message": message, "code": _code(message)}
    return {"field": _camel(key) if key else "body", "message": message, "code": _code(message)}


def _code(message: str) -> str:
    lowered = message.lower()
    if "missing required" in lowered:
        return "required"
    if "matching regex" in lowered:
        return "pattern"
    if lowered.startswith("expected") and any(op in lowered for op in (">", "<", "length")):
        return "out-of-range"
    if lowered.startswith("expected"):
        return "type"
    return "invalid"


def render(request: Request[Any, Any, Any], exc: ProblemDetailsException) -> Response[Any]:
    """A ProblemDetailsException raised as such (not converted from one of ours)."""
    exc.instance = exc.instance or path_of(request.scope)
    return exc.to_response(request)


def internal_error(request: Request[Any, Any, Any], base_uri: str) -> Response[Any]:
    detail = "an unexpected error occurred; quote the X-Request-Id header when reporting it"
    return _exception(HTTP_PROBLEMS[500], detail, base_uri).to_response(request)
