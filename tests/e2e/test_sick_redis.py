"""A sick Redis never slows the service: the app on a redis-server of the test's own, frozen with SIGSTOP.

A frozen Redis accepts connections and never answers, like a hung host or a black-holed port. Requests
must then pass at once and uncounted (rate limits fail open), the probes must never ask Redis, and
counting must resume once Redis answers again. The time bounds are generous (about ten times what the
behaviour needs): they tell "passes at once" from "waits in line", not how fast anything is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.http.circuit import CircuitState
from orderline.http.rate_limit import RateLimits
from tests.e2e.lifespan import lifespan_of
from tests.redis_server import RedisServer, black_hole, redis_server
from tests.support import FAST_HASHER, SteppingClock, engine_settings

CONCURRENT = 20
# Longer than the default timeout: this machine is shared, and a counting step that timed out by
# accident would fail these tests for the wrong reason. The bounds asserted are still many times it.
TIMEOUT = 0.2
COOLDOWN = 0.5
PROBES = ("/v1/livez", "/v1/healthz", "/v1/readyz")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as running:
        yield running


def settings_for(database_url: str, redis_url: str, timeout: float = TIMEOUT, cooldown: float = COOLDOWN) -> Settings:
    return engine_settings(
        database_url,
        rate_limits="default=5/60",
        redis_url=redis_url,
        redis_timeout=timeout,
        redis_cooldown=cooldown,
        refund_poll_seconds=0,
    )


@asynccontextmanager
async def serving(settings: Settings, clock: SteppingClock) -> AsyncIterator[tuple[RateLimits, httpx.AsyncClient]]:
    """The app with its lifespan running, its rate limits, and a client calling it."""
    app: Litestar = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    asgi: Any = app
    transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
    async with lifespan_of(app), httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
        yield app.state.rate_limits, http


async def timed_together(http: httpx.AsyncClient, path: str) -> tuple[list[httpx.Response], float]:
    started = time.monotonic()
    responses = await asyncio.gather(*(http.get(path) for _ in range(CONCURRENT)))
    return responses, time.monotonic() - started


def counted(response: httpx.Response) -> bool:
    return "RateLimit-Remaining" in response.headers


async def test_requests_pass_at_once_and_uncounted_while_redis_is_frozen(
    database_url: str, clock: SteppingClock, server: RedisServer
) -> None:
    async with serving(settings_for(database_url, server.url), clock) as (rate_limits, http):
        before = await http.get("/v1/pets")
        server.freeze()

        responses, elapsed = await timed_together(http, "/v1/pets")

        assert before.headers["RateLimit-Remaining"] == "4"
        assert [response.status_code for response in responses] == [200] * CONCURRENT  # beyond the limit of 5
        assert not any(counted(response) for response in responses)
        assert elapsed < 2.0  # about one timeout (0.2 s) side by side; before this was fixed, 14-20 s
        assert rate_limits.redis_circuit is CircuitState.OPEN


@pytest.mark.parametrize("path", PROBES)
async def test_the_probes_never_ask_redis(
    database_url: str, clock: SteppingClock, server: RedisServer, path: str
) -> None:
    # A timeout of 5 s: a probe that asked the frozen Redis would take that long, and would open the circuit.
    async with serving(settings_for(database_url, server.url, timeout=5.0), clock) as (rate_limits, http):
        server.freeze()

        started = time.monotonic()
        probe = await http.get(path)
        elapsed = time.monotonic() - started

        assert probe.status_code == 200
        assert not counted(probe)
        assert elapsed < 1.0
        assert rate_limits.redis_circuit is CircuitState.CLOSED


async def test_counting_resumes_after_the_trial_call_once_redis_answers_again(
    database_url: str, clock: SteppingClock, server: RedisServer
) -> None:
    async with serving(settings_for(database_url, server.url), clock) as (rate_limits, http):
        await http.get("/v1/pets")
        server.freeze()
        uncounted = await http.get("/v1/pets")
        server.thaw()
        still_open = await http.get("/v1/pets")

        await asyncio.sleep(COOLDOWN)
        trial = await http.get("/v1/pets")
        after = await http.get("/v1/pets")

        assert not counted(uncounted)
        assert not counted(still_open)  # Redis answers again, but the circuit waits out its cooldown
        assert rate_limits.redis_circuit is CircuitState.CLOSED
        # The window opened before the freeze goes on: 1 request counted before it, the trial, and perhaps
        # the frozen request's script, which sat in Redis's socket buffer and ran when Redis woke up.
        assert trial.headers["RateLimit-Remaining"] in {"3", "2"}
        assert int(after.headers["RateLimit-Remaining"]) == int(trial.headers["RateLimit-Remaining"]) - 1


async def test_requests_pass_at_once_and_uncounted_when_redis_is_a_port_that_never_answers(
    database_url: str, clock: SteppingClock
) -> None:
    with black_hole() as url:
        started = time.monotonic()
        # A cooldown as long as the whole test may take: the circuit read at the end is still the one the requests
        # opened, however slowly a busy machine ran them (with 0.5 s, it was once found half-open already).
        settings = settings_for(database_url, url, cooldown=5.0)
        async with serving(settings, clock) as (rate_limits, http):
            responses, elapsed = await timed_together(http, "/v1/pets")
            probe = await http.get("/v1/livez")
            state = rate_limits.redis_circuit
        with_start_and_stop = time.monotonic() - started

    assert [response.status_code for response in responses] == [200] * CONCURRENT
    assert not any(counted(response) for response in responses)
    assert probe.status_code == 200
    assert elapsed < 2.0
    assert with_start_and_stop < 5.0
    assert state is CircuitState.OPEN
