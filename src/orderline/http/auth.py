"""Authentication: who is behind the Authorization header, worked out once per request.

A middleware resolves the credential before anything else runs (so rate limits can count
per principal) and keeps the outcome in the request's state; a refused credential is kept
too, and raised as 401 when the route asks for its principal. No credential is anonymous.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application.errors import Unauthenticated
from orderline.application.principal import ANONYMOUS, Principal
from orderline.application.use_cases import UseCases

STATE_KEY = "principal"

Outcome = Principal | Unauthenticated


async def _authenticate(scope: AsgiScope) -> Outcome:
    header = Headers.from_scope(scope).get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Unauthenticated("send credentials as 'Authorization: Bearer <token>'")
    use_cases: UseCases = scope["litestar_app"].state.use_cases
    try:
        return await use_cases.authenticator.authenticate(token.strip())
    except Unauthenticated as refused:
        return refused


def outcome_of(scope: AsgiScope) -> Outcome | None:
    """What the middleware found for this request (None before it ran)."""
    found: Outcome | None = scope.get("state", {}).get(STATE_KEY)
    return found


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scope.setdefault("state", {})[STATE_KEY] = await _authenticate(scope)
        await app(scope, receive, send)

    return middleware


async def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency: the request's principal; a refused credential is a 401, never anonymous."""
    outcome = outcome_of(request.scope) or await _authenticate(request.scope)
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


def identity_of(scope: AsgiScope) -> str:
    """Whom per-caller state (rate limits, idempotency keys) belongs to: the principal, or the client's
    address when anonymous or when the credential was refused."""
    outcome = outcome_of(scope)
    if isinstance(outcome, Principal) and not outcome.is_anonymous and outcome.id is not None:
        return f"{outcome.kind}:{outcome.id}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"
