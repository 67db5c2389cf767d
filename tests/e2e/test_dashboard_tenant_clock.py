"""A sandbox tenant's dashboard is drawn in its test clock's time (ADR 0043, ADR 0041): the Overview's 30 days end
on the tenant's today, and hold what it did then; the session itself lives in real time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar

from orderline.application.principal import SYSTEM
from orderline.application.tenant_time import acting_as
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.e2e.tenant_staff import an_order_of, sign_in, staff
from tests.support import FAST_HASHER, SteppingClock, engine_settings

AHEAD = timedelta(days=60)


@pytest.fixture
async def sandbox_app(database_url: str, clock: SteppingClock) -> AsyncIterator[tuple[Litestar, UseCases]]:
    settings = msgspec.structs.replace(engine_settings(database_url), sandbox=True)
    app = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(app):
        yield app, app.state.use_cases


@pytest.fixture
async def browser(sandbox_app: tuple[Litestar, UseCases]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox_app[0])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        yield client


async def _a_tenant_ahead(use_cases: UseCases) -> UUID:
    """A sandbox tenant whose clock runs AHEAD of real time, with a member of staff and one order placed in its
    time."""
    sandbox = use_cases.sandbox
    assert sandbox is not None
    tenant = (await sandbox.create_tenant(SYSTEM)).tenant
    time = await sandbox.advance_clock(replace(SYSTEM, tenant=tenant), tenant, int(AHEAD.total_seconds()))
    await staff(use_cases, tenant)
    async with acting_as(time):
        await an_order_of(use_cases, tenant, "Later")
    return tenant


async def test_a_sandbox_tenants_overview_ends_on_its_clocks_today(
    sandbox_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient, clock: SteppingClock
) -> None:
    tenant = await _a_tenant_ahead(sandbox_app[1])
    tenants_today = (clock.now() + AHEAD).date()

    signed_in = await sign_in(browser, str(tenant))
    overview = await browser.get("/admin/")

    assert signed_in.status_code == 303, signed_in.text
    assert overview.status_code == 200, overview.text
    assert f"{tenants_today}: 1 orders, 0 cancelled" in overview.text  # the order it placed "today", counted
    assert f"{clock.now().date()}: " not in overview.text  # real today is 60 days before its 30 days began


async def test_a_sandbox_tenants_clock_does_not_end_its_staffs_session(
    sandbox_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient
) -> None:
    tenant = await _a_tenant_ahead(sandbox_app[1])  # 60 days ahead: past any session's lifetime

    await sign_in(browser, str(tenant))
    pages = [await browser.get(path) for path in ("/admin/", "/admin/orders", "/admin/catalogue")]

    assert [page.status_code for page in pages] == [200, 200, 200], pages[0].text
