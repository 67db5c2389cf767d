"""What every request is spared (ADR 0033): no full garbage collection walks what start-up built, and the
access decision is a middleware's check, not a Litestar guard (a copy of the route handler per call)."""

from __future__ import annotations

import gc
import re
from pathlib import Path

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.e2e.process import serving
from tests.support import FAST_HASHER, SteppingClock


def test_what_a_server_built_at_start_up_is_out_of_the_garbage_collectors_full_walks(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env={"ORDERLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'orderline.db'}"}) as server:
        listening = next(line for line in server.output().splitlines() if "listening" in line)

    frozen = re.search(r"frozen_objects=(\d+)", listening)
    assert frozen is not None, listening
    assert int(frozen.group(1)) > 100_000


def test_only_a_route_with_a_credential_of_its_own_has_a_litestar_guard(app: Litestar) -> None:
    guarded = [
        handler.handler_name
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and handler.resolve_guards()
    ]

    assert guarded == ["scrape"]


async def test_an_app_started_in_process_freezes_nothing(settings: Settings, clock: SteppingClock) -> None:
    """Tests start many apps in one process: what each built is collected once it stops."""
    application = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))

    async with lifespan_of(application):
        assert gc.get_freeze_count() == 0
