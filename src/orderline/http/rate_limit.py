"""Rate limits: a fixed-window count per principal (per client address when anonymous) and route group.

The gate (http/gate.py) counts after authentication, so it knows who is asking; a refused credential counts
against the client's address, so guessing tokens is limited too. Counters live in this process's
memory, or in Redis when ``ORDERLINE_REDIS_URL`` is set, or in the database when several web processes
run without Redis (ADR 0035), so the processes share one limit; when the shared counters fail, requests
pass uncounted at once. The probes are never counted. ADR 0009 says why this is
not Litestar's RateLimitMiddleware.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, TooManyRequestsException
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, HTTPScope
from litestar.types import Scope as AsgiScope
from litestar.utils.helpers import get_enum_string_value

from orderline.application.ports import RateCounters
from orderline.config import Settings, parse_rate_limits
from orderline.http.auth import identity_of
from orderline.http.circuit import CircuitBreaker, CircuitState
from orderline.http.counters import Decision, Limiter, LimiterUnavailable, MemoryLimiter
from orderline.http.database_counters import DATABASE_FAILURES, DatabaseLimiter
from orderline.http.probes import PROBE_PATHS
from orderline.http.redis_counters import REDIS_FAILURES, redis_limiter

STATE_KEY = "rate_limit"
_REPLACEMENT_BODY = "rate_limit_body"
# Sign-in and sign-up: what password guessing and sign-up abuse go through.
# The DRF dialect's simplejwt views sign in too (Litestar's templates drop their trailing slash).
AUTH_ROUTES = frozenset(
    {
        ("POST", "/v1/auth/tokens"),
        ("POST", "/v1/users"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/token/refresh"),
        ("POST", "/admin/sign-in"),  # the dashboard's sign-in form (issue 12)
    }
)
# How the app answers an unknown route or method (a 404 or 405), and so a refusal in its place.
UnroutedHandler = Callable[[Request[Any, Any, Any], HTTPException], Response[Any]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WHAT = {"default": "requests", "write": "writes", "auth": "sign-ins and sign-ups"}


def group_of(method: str, path_template: str) -> str:
    if (method, path_template) in AUTH_ROUTES:
        return "auth"
    return "default" if method in SAFE_METHODS else "write"


class RateLimits:
    """The limits of one app: its lifespan opens the counters; the gate and the front apply them."""

    def __init__(self, settings: Settings, *, unrouted: UnroutedHandler) -> None:
        """``unrouted`` answers an unknown route or method: a refusal in place comes in the same body (a dialect's)."""
        self._limits = parse_rate_limits(settings.rate_limits)
        self._unrouted = unrouted
        self._redis_url = settings.redis_url or None
        self._redis_key_prefix = settings.redis_key_prefix
        self._redis_timeout = settings.redis_timeout
        self._db_timeout = settings.rate_limit_db_timeout
        self._db_cooldown = settings.rate_limit_db_cooldown
        self._limiter: Limiter | None = None
        self._breaker: CircuitBreaker | None = None
        if self._redis_url is not None:
            cooldown = settings.redis_cooldown
            self._breaker = CircuitBreaker("redis rate-limit counters", cooldown=cooldown, failures=REDIS_FAILURES)

    @property
    def redis_circuit(self) -> CircuitState | None:
        """Whether the Redis counters are asked (closed), skipped (open) or on trial (half-open); None: in memory."""
        return None if self._breaker is None else self._breaker.state

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        if self._redis_url is None or self._breaker is None:
            # Several web processes and no Redis: the use cases bring counters in the database (ADR 0035).
            shared: RateCounters | None = app.state.use_cases.rate_counters
            if shared is None:
                self._limiter = MemoryLimiter()
            else:
                breaker = CircuitBreaker(
                    "database rate-limit counters", cooldown=self._db_cooldown, failures=DATABASE_FAILURES
                )
                self._limiter = DatabaseLimiter(shared, answer_within=self._db_timeout, breaker=breaker)
            yield
            return
        prefix, timeout = self._redis_key_prefix, self._redis_timeout
        async with redis_limiter(self._redis_url, prefix, answer_within=timeout, breaker=self._breaker) as limiter:
            with contextlib.suppress(LimiterUnavailable):
                await limiter.prepare()
            self._limiter = limiter
            yield

    async def admit(self, scope: HTTPScope) -> None:
        """Count a routed request before its handler runs (the gate, http/gate.py); beyond the limit, raise the 429
        and the handler never runs.

        The probes are neither counted nor refused: they must answer whatever else is sick, so they never
        wait on Redis, and a limit meant for clients must not take a process out of rotation.
        """
        state = scope["state"]
        state[STATE_KEY] = None
        if scope["path_template"] not in PROBE_PATHS:
            group = group_of(scope["method"], scope["path_template"])
            state[STATE_KEY] = decision = await self._count(scope, group)
            if decision is not None and not decision.allowed:
                raise self._refusal(group, decision)

    async def headers_of(self, message: HTTPResponseStartEvent, scope: HTTPScope) -> list[tuple[bytes, bytes]]:
        """The RateLimit-* headers of an answer about to start (the front writes them on every answer).

        Unknown routes and methods never reach the gate, so they are counted here, by address; beyond the
        limit their 404 or 405 becomes the 429 the gate would have answered (``message`` is changed in place,
        and ``replace_body`` gives the body).
        """
        state: dict[str, Any] = scope["state"]
        if STATE_KEY not in state:
            state[STATE_KEY] = decision = await self._count(scope, "default")
            if decision is not None and not decision.allowed:
                self._refuse_in_place(message, scope, decision)
        decision = state[STATE_KEY]
        return [] if decision is None else decision.header_lines()

    def replace_body(self, message: HTTPResponseBodyEvent, scope: AsgiScope) -> None:
        """An answer refused in place sends the refusal's body instead of its own."""
        state: dict[str, Any] = scope["state"]
        if _REPLACEMENT_BODY in state:
            message["body"] = state.pop(_REPLACEMENT_BODY)
            message["more_body"] = False

    async def _count(self, scope: AsgiScope, group: str) -> Decision | None:
        """The request's decision; None when it is not counted (Redis fails: the circuit has logged it)."""
        if self._limiter is None:
            raise RuntimeError("rate limits are applied before the app's lifespan started")
        limit, window = self._limits[group]
        try:
            return await self._limiter.hit(f"{group}:{identity_of(scope)}", limit, window)
        except LimiterUnavailable:
            return None

    def _refusal(self, group: str, decision: Decision) -> TooManyRequestsException:
        window, wait = self._limits[group][1], decision.reset_after
        detail = f"at most {decision.limit} {_WHAT[group]} per {window} seconds; try again in {wait} seconds"
        return TooManyRequestsException(detail=detail, headers={"Retry-After": str(wait)})

    def _refuse_in_place(self, message: HTTPResponseStartEvent, scope: HTTPScope, decision: Decision) -> None:
        # The body the path's owner gives a routed 429: problem+json, or a dialect's under its mount.
        response = self._unrouted(Request(scope), self._refusal("default", decision))
        media_type = get_enum_string_value(response.media_type or MediaType.JSON)
        body = response.render(response.content, media_type)
        scope["state"][_REPLACEMENT_BODY] = b"" if scope["method"] == "HEAD" else body
        message["status"] = 429
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Type"] = media_type
        headers["Content-Length"] = str(len(body))
        headers["Retry-After"] = str(decision.reset_after)
