"""The twin runs of our own routers' tests (tests/e2e/test_hot_routes.py, test_drf_fast_routes.py): one case run
through an app whose front hands the plain requests to our own routers, and again through the same app built with
``hot_routes=False``, where Litestar routes everything; the answers are compared once their random parts are
replaced by placeholders.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.types import ASGIApp
from litestar.types import Scope as AsgiScope

from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, SteppingClock

Placeholders = Sequence[tuple[re.Pattern[bytes], bytes]]
World = TypeVar("World")


class Router(Protocol):
    def match(self, scope: AsgiScope) -> ASGIApp | None: ...


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    own: bool  # whether our own router took the last request


class _Opener:
    open: Callable[[], Awaitable[UseCases]] | None = None

    async def __call__(self) -> UseCases:
        assert self.open is not None
        return await self.open()


_BUILT: dict[tuple[Settings, bool], tuple[Litestar, _Opener]] = {}


def _app(settings: Settings, own: bool) -> tuple[Litestar, _Opener]:
    """Apps built once per configuration (half a second each), started afresh for each run."""
    key = (msgspec.structs.replace(settings, database_url=""), own)
    if key not in _BUILT:
        opener = _Opener()
        _BUILT[key] = (create_app(settings, opener, hot_routes=own), opener)
    return _BUILT[key]


def plain(text: bytes, placeholders: Placeholders) -> bytes:
    for pattern, placeholder in placeholders:
        text = pattern.sub(placeholder, text)
    return text


@dataclass(frozen=True)
class Twins(Generic[World]):
    """How a test module's cases run: its router class, the world each case starts from, its placeholders."""

    router: type[Router]
    world: Callable[[httpx.AsyncClient, UseCases], Awaitable[World]]
    placeholders: Placeholders

    async def answer(
        self, settings: Settings, own: bool, case: Callable[[World], Awaitable[httpx.Response]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> Answer:  # fmt: skip
        app, opener = _app(settings, own)
        opener.open = lambda: build(settings, clock=SteppingClock(), hasher=FAST_HASHER)
        served: list[str] = []
        match = self.router.match

        def spied(router: Router, scope: AsgiScope) -> ASGIApp | None:
            found = match(router, scope)  # the front runs what match returns: this router answers the request
            if found is not None:
                served.append(scope["path"])
            return found

        monkeypatch.setattr(self.router, "match", spied)
        asgi: Any = app
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with lifespan_of(app), httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as client:
            world = await self.world(client, app.state.use_cases)
            served.clear()
            response = await case(world)
        # RateLimit-Reset counts the seconds left in the window: the two runs may fall either side of a second.
        headers = [
            (name, plain(value, self.placeholders))
            for name, value in response.headers.raw
            if name.lower() != b"ratelimit-reset"
        ]
        # Allow lists a route's methods from a set: two apps of one process may order it differently.
        headers = [
            (name, b", ".join(sorted(value.split(b", "))) if name == b"allow" else value) for name, value in headers
        ]
        return Answer(response.status_code, headers, plain(response.content, self.placeholders), bool(served))

    def twice(
        self, settings: Settings, fresh_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
    ) -> Callable[..., Awaitable[tuple[Answer, Answer]]]:
        """Each case through our own routers, then on a fresh database through Litestar alone."""

        async def run(case: Callable[[World], Awaitable[httpx.Response]], **overrides: Any) -> tuple[Answer, Answer]:
            first = msgspec.structs.replace(settings, **overrides)
            own = await self.answer(first, True, case, monkeypatch)
            url = await asyncio.to_thread(fresh_database)  # its own event loop: outside the test's
            litestar = await self.answer(msgspec.structs.replace(first, database_url=url), False, case, monkeypatch)
            assert not litestar.own
            return own, litestar

        return run
