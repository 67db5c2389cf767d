"""End-to-end fixtures: the real app over HTTP (in-process ASGI) on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
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


@pytest.fixture
async def app(settings: Settings, clock: SteppingClock) -> AsyncIterator[Litestar]:
    """The real app with its lifespan running in the test's own event loop (as uvicorn would run it)."""
    application = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
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
