"""End-to-end fixtures: the real app over HTTP (in-process ASGI) on a real database."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from orderline import logs
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.http import register
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, SteppingClock


@pytest.fixture(autouse=True, scope="session")
def _logging() -> None:
    """Log as `orderline serve` does, so tests can read what an operator would see."""
    logs.configure("info", "console")


OpenUseCases = Callable[[], Awaitable[UseCases]]


class Apps:
    """Apps built once per configuration and started afresh for each test, as a server restarts one.

    Building an app (registering its routes, generating its OpenAPI document) costs half a second, its
    lifespan a few milliseconds; the lifespan opens the test's own use cases (database, clock, rate limiter).
    The database URL is read only there, so tests on different databases share an app. An app that keeps
    something of its own across lifespans is built for its test alone: one that counts requests for a
    scraper (a metrics token), or one whose Redis circuit remembers the last test's failures (a Redis URL).
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._built: OrderedDict[Settings, tuple[Litestar, _TestsUseCases]] = OrderedDict()

    def app(self, settings: Settings, open_use_cases: OpenUseCases) -> Litestar:
        if settings.metrics_token is not None or settings.redis_url:
            return create_app(settings, open_use_cases)
        key = msgspec.structs.replace(settings, database_url="")
        if key not in self._built:
            current = _TestsUseCases()
            self._built[key] = (create_app(settings, current), current)
            if len(self._built) > self._keep:
                self._built.popitem(last=False)
        self._built.move_to_end(key)
        application, current = self._built[key]
        current.open = open_use_cases
        return application


class _TestsUseCases:
    """What a reused app's lifespan opens: the use cases of the test that starts it."""

    open: OpenUseCases | None = None

    async def __call__(self) -> UseCases:
        assert self.open is not None, "an app is started only by a test that gave it its use cases"
        return await self.open()


@pytest.fixture(scope="session")
def apps() -> Apps:
    return Apps(keep=4)


@pytest.fixture
async def app(settings: Settings, clock: SteppingClock, apps: Apps) -> AsyncIterator[Litestar]:
    """The real app with its lifespan running in the test's own event loop (as uvicorn would run it)."""
    application = apps.app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(application):
        yield application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    asgi: Any = app  # httpx types the ASGI callable more narrowly than Litestar declares it
    transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
        yield http


@pytest.fixture
def app_use_cases(app: Litestar) -> UseCases:
    use_cases: UseCases = app.state.use_cases
    return use_cases


async def _key(use_cases: UseCases, *scopes: Scope) -> dict[str, str]:
    _key_row, secret = await use_cases.api_keys.create("test", frozenset(scopes))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def admin(app_use_cases: UseCases) -> dict[str, str]:
    return await _key(app_use_cases, Scope.ADMIN)


@pytest.fixture
async def clerk(app_use_cases: UseCases) -> dict[str, str]:
    """A key that may read and cancel orders, nothing else."""
    return await _key(app_use_cases, Scope.READ_ORDERS, Scope.WRITE_ORDERS)


@pytest.fixture
async def reader(app_use_cases: UseCases) -> dict[str, str]:
    return await _key(app_use_cases, Scope.READ_ORDERS)


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    """A registered customer's Authorization header."""
    return await register(client, "alice")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> dict[str, str]:
    return await register(client, "bob")
