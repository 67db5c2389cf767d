"""Rate limits: a fixed-window count per principal (per client address when anonymous) and route group.

The middleware runs after authentication, so it knows who is asking; a refused credential counts
against the client's address, so guessing tokens is limited too. Counters live in this process's
memory, or in Redis when ``ORDERLINE_REDIS_URL`` is set, so several processes share one limit.
ADR 0009 says why this is not Litestar's RateLimitMiddleware.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import structlog
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, HTTPResponseStartEvent, HTTPScope, Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from orderline.config import Settings, parse_rate_limits
from orderline.http.auth import identity_of
from orderline.http.problems import HTTP_PROBLEMS, MEDIA_TYPE, problem_body

log = structlog.get_logger("orderline.http.rate_limit")

STATE_KEY = "rate_limit"
_REPLACEMENT_BODY = "rate_limit_body"
# Sign-in and sign-up: what password guessing and sign-up abuse go through.
AUTH_ROUTES = frozenset({("POST", "/v1/auth/tokens"), ("POST", "/v1/users")})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# An orchestrator's probes are counted (and carry the headers like every answer) but never refused:
# a limit meant for clients must not take a process out of rotation.
PROBES = frozenset({"/v1/healthz", "/v1/readyz", "/v1/livez"})
_WHAT = {"default": "requests", "write": "writes", "auth": "sign-ins and sign-ups"}
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Decision:
    """One counted request: allowed or not, and what the RateLimit-* headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # whole seconds until the window ends, at least 1

    @classmethod
    def of(cls, count: int, limit: int, seconds_left: float) -> Decision:
        # Rounded to the millisecond first: (start + window) - start can exceed window by a float's last bit.
        return cls(count <= limit, limit, max(0, limit - count), max(1, math.ceil(round(seconds_left, 3))))

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }


class LimiterUnavailable(Exception):
    """The shared counters cannot be reached; the request is let through uncounted."""


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> Decision:
        """Count one request against ``key``'s window of ``window`` seconds, opening one if none is open."""
        ...


class MemoryLimiter:
    """Counters of one process. Expired windows are dropped at most every ``sweep_every`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_every: float = 60.0) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        self._next_sweep = clock() + sweep_every
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, when the window ends)

    def __len__(self) -> int:
        return len(self._windows)

    async def hit(self, key: str, limit: int, window: int) -> Decision:
        now = self._clock()
        if now >= self._next_sweep:
            self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
            self._next_sweep = now + self._sweep_every
        count, ends = self._windows.get(key, (0, now))
        if ends <= now:
            count, ends = 0, now + window
        self._windows[key] = (count + 1, ends)
        return Decision.of(count + 1, limit, ends - now)


# One round trip, atomic: count, and start the window's expiry if it has none (a new window).
_FIXED_WINDOW = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisLimiter:
    """Counters shared by every process on one Redis; windows are keys that expire on Redis's clock."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._script = redis.register_script(_FIXED_WINDOW)
        self._prefix = prefix + "rate:"

    async def hit(self, key: str, limit: int, window: int) -> Decision:
        try:
            count, ttl_ms = await self._script(keys=[self._prefix + key], args=[window * 1000])
        except RedisError as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return Decision.of(int(count), limit, int(ttl_ms) / 1000)


def group_of(method: str, path_template: str) -> str:
    if (method, path_template) in AUTH_ROUTES:
        return "auth"
    return "default" if method in SAFE_METHODS else "write"


class RateLimits:
    """The limits of one app: its lifespan opens the counters, its middleware and hook apply them."""

    def __init__(self, settings: Settings) -> None:
        self._limits = parse_rate_limits(settings.rate_limits)
        self._redis_url = settings.redis_url or None
        self._redis_key_prefix = settings.redis_key_prefix
        self._base_uri = settings.problem_base_uri
        self._limiter: Limiter | None = None
        self._failing = False

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        if self._redis_url is None:
            self._limiter = MemoryLimiter()
            yield
            return
        # One immediate retry (a pooled connection Redis dropped), not redis-py's seconds of backoff:
        # every request waits on this.
        redis = Redis.from_url(
            self._redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=1),
        )
        try:
            await redis.ping()
        except RedisError as exc:
            log.warning("rate limits: Redis is not reachable; requests pass uncounted until it is", error=str(exc))
        self._limiter = RedisLimiter(redis, self._redis_key_prefix)
        try:
            yield
        finally:
            await redis.aclose()

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Count each routed request before its handler runs; beyond the limit, 429 and the handler never runs."""

        async def limit(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                group = group_of(scope["method"], scope["path_template"])
                scope["state"][STATE_KEY] = decision = await self._count(scope, group)
                if decision is not None and not decision.allowed and scope["path_template"] not in PROBES:
                    retry = {"Retry-After": str(decision.reset_after)}
                    raise TooManyRequestsException(detail=self._detail(group, decision), headers=retry)
            await app(scope, receive, send)

        return limit

    async def add_headers(self, message: Message, scope: Scope) -> None:
        """before_send hook: the RateLimit-* headers on every response.

        Unknown routes and methods never reach a middleware, so they are counted here, by address;
        beyond the limit their 404 or 405 becomes the 429 the middleware would have answered.
        """
        if scope["type"] != ScopeType.HTTP:
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        if message["type"] == "http.response.start":
            if STATE_KEY not in state:
                state[STATE_KEY] = decision = await self._count(scope, "default")
                if decision is not None and not decision.allowed:
                    self._refuse_in_place(message, scope, decision)
            if (decision := state[STATE_KEY]) is not None:
                headers = MutableScopeHeaders.from_message(message)
                for name, value in decision.headers().items():
                    headers[name] = value
        elif message["type"] == "http.response.body" and _REPLACEMENT_BODY in state:
            message["body"] = state.pop(_REPLACEMENT_BODY)
            message["more_body"] = False

    async def _count(self, scope: Scope, group: str) -> Decision | None:
        """The request's decision; None when it is not counted (the counters are down)."""
        if self._limiter is None:
            raise RuntimeError("rate limits are applied before the app's lifespan started")
        limit, window = self._limits[group]
        try:
            decision = await self._limiter.hit(f"{group}:{identity_of(scope)}", limit, window)
        except LimiterUnavailable as exc:
            if not self._failing:
                log.error("rate limits: counters unavailable; requests pass uncounted", error=str(exc))
            self._failing = True
            return None
        if self._failing:
            log.info("rate limits: counters available again")
            self._failing = False
        return decision

    def _detail(self, group: str, decision: Decision) -> str:
        window = self._limits[group][1]
        return (
            f"at most {decision.limit} {_WHAT[group]} per {window} seconds; try again in {decision.reset_after} seconds"
        )

    def _refuse_in_place(self, message: HTTPResponseStartEvent, scope: HTTPScope, decision: Decision) -> None:
        problem = problem_body(HTTP_PROBLEMS[429], self._detail("default", decision), scope["path"], self._base_uri)
        body = msgspec.json.encode(problem)
        scope["state"][_REPLACEMENT_BODY] = b"" if scope["method"] == "HEAD" else body
        message["status"] = 429
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Type"] = MEDIA_TYPE
        headers["Content-Length"] = str(len(body))
        headers["Retry-After"] = str(decision.reset_after)
