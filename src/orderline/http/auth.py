"""Authentication: who is behind the Authorization header, worked out once per request.

The gate (http/gate.py) resolves the credential before anything else of the route runs (so rate limits
can count per principal) and keeps the outcome in the request's state; a refused credential is kept
too, and raised as 401 when the route asks for its principal. No credential is anonymous.
The native API reads it from ``Authorization: Bearer``; a dialect may read it elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import Headers
from litestar.di import NamedDependency
from litestar.types import Scope as AsgiScope

from orderline.application.errors import InvalidTenant, Unauthenticated
from orderline.application.ports import Ahead, OrderAhead, Read
from orderline.application.principal import ANONYMOUS, PUBLIC, Principal
from orderline.application.use_cases import UseCases
from orderline.http.facts import facts_of
from orderline.http.tenant import requested_tenant

STATE_KEY = "principal"
# A route's option (``@get(..., read_ahead=order_of_path)``): what of the request to read in the credential's own
# statement (ADR 0049), a function of its scope (None: nothing). The gate keeps what it read under READ_AHEAD too.
READ_AHEAD = "read_ahead"
AheadOf = Callable[[AsgiScope], Ahead | None]
# The app's state holds, under this key, the function that tells which credential reader serves a path.
READERS_KEY = "credential_readers"

Outcome = Principal | Unauthenticated | InvalidTenant
CredentialReader = Callable[[Headers], str | None]


def bearer_credential(headers: Headers) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None without the header, Unauthenticated if malformed."""
    return bearer_token(headers.get("authorization"))


def bearer_token(header: str | None) -> str | None:
    """The token of an Authorization header's value ``Bearer <token>``; None for no header."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send credentials as 'Authorization: Bearer <token>'")
    return token.strip()


async def authenticate(scope: AsgiScope, ahead: Ahead | None = None) -> Outcome:
    """Who is behind the request's credential: a principal (anonymous without one), or the refusal. With
    ``ahead``, what it names is read in the credential's statement where the credential allows it, and kept in the
    request's state for the route (``read_ahead_of``, ADR 0049)."""
    state = scope["litestar_app"].state
    reader: CredentialReader = state.get(READERS_KEY, lambda _path: bearer_credential)(scope["path"])
    try:
        requested = requested_tenant(scope)  # X-Tenant-ID (ADR 0040): a credential of a tenant overrides it
        # The native API's header comes from the facts read once per request; a dialect reads its own.
        credential = (
            bearer_token(facts_of(scope).authorization)
            if reader is bearer_credential
            else reader(Headers.from_scope(scope))
        )
        if credential is None:
            return ANONYMOUS if requested == PUBLIC else replace(ANONYMOUS, tenant=requested)
        use_cases: UseCases = state.use_cases
        principal, read = await use_cases.authenticator.authenticate_reading(credential, requested, ahead)
        if read is not None:
            scope["state"][READ_AHEAD] = read
        return principal
    except (Unauthenticated, InvalidTenant) as refused:
        return refused


def order_of_path(scope: AsgiScope) -> OrderAhead | None:
    """The order of the route's path (``order_id``), to read ahead."""
    order_id = scope["path_params"].get("order_id")
    return OrderAhead(order_id) if isinstance(order_id, UUID) else None


def shown_order_of_path(scope: AsgiScope) -> OrderAhead | None:
    """The order of the route's path with its customer (``OrderReads.get_shown``), to read ahead."""
    order_id = scope["path_params"].get("order_id")
    return OrderAhead(order_id, shown=True) if isinstance(order_id, UUID) else None


def read_ahead_of(scope: AsgiScope) -> Read | None:
    """What the gate read with the request's credential (ADR 0049), if it read anything: what the route's
    ``read_ahead`` named (a ReadAhead for an order, a PageRead for a page), for the route to hand on."""
    read: Read | None = scope["state"].get(READ_AHEAD)
    return read


def outcome_of(scope: AsgiScope) -> Outcome | None:
    """What the gate found for this request (None before it ran)."""
    found: Outcome | None = scope.get("state", {}).get(STATE_KEY)
    return found


async def principal_of(request: Request[Any, Any, Any], use_cases: NamedDependency[UseCases]) -> Principal:
    """Litestar dependency: the request's principal; a refused credential is a 401, never anonymous, and an
    invalid X-Tenant-ID a 400.

    It names ``use_cases`` (unused: the gate found the outcome) so that Litestar resolves the two one
    after the other: dependencies of the same level are resolved concurrently, in an anyio task group of
    their own, which cost more than a route's whole read (ADR 0033).
    """
    del use_cases
    return await principal_in(request.scope)


async def principal_in(scope: AsgiScope) -> Principal:
    """The request's principal as the gate found it (or found now): a refused credential or an invalid
    X-Tenant-ID is raised, never taken for anonymous."""
    outcome = outcome_of(scope) or await authenticate(scope)
    if not isinstance(outcome, Principal):
        raise outcome
    return outcome


def identity_of(scope: AsgiScope) -> str:
    """Whom per-caller state (rate limits, idempotency keys) belongs to: the principal, or the client's
    address when anonymous or when the credential was refused."""
    outcome = outcome_of(scope)
    if isinstance(outcome, Principal) and not outcome.is_anonymous and outcome.id is not None:
        return f"{outcome.kind}:{outcome.id}"
    client = scope.get("client")
    tenant = f"@{outcome.tenant}" if isinstance(outcome, Principal) and outcome.tenant != PUBLIC else ""
    return f"address:{client[0] if client else 'unknown'}{tenant}"
