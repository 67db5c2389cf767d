"""What every request is spared (ADR 0033): no full garbage collection walks what start-up built, and the
access decision is a middleware's check, not a Litestar guard (a copy of the route handler per call)."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, SteppingClock


def test_what_start_up_built_is_out_of_the_garbage_collectors_full_walks(app: Litestar) -> None:
    assert gc.get_freeze_count() > 100_000


def test_only_a_route_with_a_credential_of_its_own_has_a_litestar_guard(app: Litestar) -> None:
    guarded = [
        handler.handler_name
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and handler.resolve_guards()
    ]

    assert guarded == ["scrape"]


async def test_an_app_that_stopped_leaves_nothing_frozen(settings: Settings, clock: SteppingClock) -> None:
    application = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(application):
        assert gc.get_freeze_count() > 0

    assert gc.get_freeze_count() == 0
