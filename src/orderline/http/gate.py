"""The gate every routed request passes before its route's own work: who calls, whether the rate limit lets
them, and whether the route's access decision does.

One Litestar middleware (it runs after routing, so it knows the route) in place of three (ADR 0039): the
credential is resolved (http/auth.py), the request counted against its group's limit (http/rate_limit.py,
429 beyond it), then the route's decision enforced (http/access.py, 401/403) — in that order, so a caller
over the limit hears 429 before 401 or 403. A refusal is raised, and the app renders it in the body of the
path's owner (problem+json, or a dialect's). The request id, the answer's headers and the observation are
the front's (http/front.py), which sees unrouted requests too.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.http.access import enforce
from orderline.http.auth import READ_AHEAD, STATE_KEY, AheadOf, authenticate
from orderline.http.rate_limit import RateLimits


def gate(rate_limits: RateLimits) -> Callable[[ASGIApp], ASGIApp]:
    """The app's one middleware, for ``Litestar(middleware=[...])``."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def through_the_gate(scope: AsgiScope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                await pass_gate(rate_limits, scope)
            await app(scope, receive, send)

        return through_the_gate

    return middleware


async def pass_gate(rate_limits: RateLimits, scope: AsgiScope) -> None:
    """The gate's three decisions for a routed HTTP request, in their order; the hot routes (http/hot_routes.py)
    pass the same gate. What a route reads first may be read with the credential (its ``read_ahead``, ADR 0049)."""
    opt = scope["route_handler"].opt
    ahead_of: AheadOf | None = opt.get(READ_AHEAD)
    scope["state"][STATE_KEY] = await authenticate(scope, None if ahead_of is None else ahead_of(scope))
    await rate_limits.admit(scope)  # type: ignore[arg-type]
    enforce(opt.get("auth"), scope)
