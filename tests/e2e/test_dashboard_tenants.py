"""The dashboard of one tenant (ADR 0043): its staff sign in naming their tenant on the form, and every page of
their session shows that tenant's shop only, never the public pool's or another tenant's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from litestar import Litestar

from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.e2e.tenant_staff import an_order_of, sign_in, staff
from tests.support import FAST_HASHER, Db, SteppingClock, engine_settings

TENANT = UUID("0190f5c2-7d3e-7a1b-8c2d-0000000000a7")


@pytest.fixture
async def use_cases_of_app(database_url: str, clock: SteppingClock) -> AsyncIterator[tuple[Litestar, UseCases]]:
    settings = engine_settings(database_url)
    app = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(app):
        yield app, app.state.use_cases


@pytest.fixture
async def browser(use_cases_of_app: tuple[Litestar, UseCases]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=use_cases_of_app[0])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        yield client


async def test_a_tenants_staff_sign_in_naming_it_and_see_its_orders_and_pets_only(
    use_cases_of_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient
) -> None:
    use_cases = use_cases_of_app[1]
    await staff(use_cases, TENANT)
    ours_pet, ours = await an_order_of(use_cases, TENANT, "Ours")
    public_pet, public = await an_order_of(use_cases, PUBLIC, "Theirs")

    signed_in = await sign_in(browser, str(TENANT))
    orders = await browser.get("/admin/orders")
    catalogue = await browser.get("/admin/catalogue")
    order = await browser.get(f"/admin/orders/{ours.id}")
    theirs = await browser.get(f"/admin/orders/{public.id}")

    assert signed_in.status_code == 303, signed_in.text
    assert orders.status_code == 200
    assert f"/admin/orders/{ours.id}" in orders.text
    assert f"/admin/orders/{public.id}" not in orders.text
    assert f"pet-{ours_pet.id}" in catalogue.text
    assert f"pet-{public_pet.id}" not in catalogue.text
    assert order.status_code == 200
    assert theirs.status_code == 404


async def test_the_public_pools_staff_sign_in_with_the_tenant_field_left_empty_and_see_none_of_a_tenants(
    use_cases_of_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient
) -> None:
    use_cases = use_cases_of_app[1]
    await staff(use_cases, PUBLIC)
    _pet, ours = await an_order_of(use_cases, TENANT, "Ours")

    signed_in = await sign_in(browser, "")
    orders = await browser.get("/admin/orders")

    assert signed_in.status_code == 303, signed_in.text
    assert f"/admin/orders/{ours.id}" not in orders.text


async def test_a_tenants_staff_are_unknown_without_their_tenant_on_the_form(
    use_cases_of_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient
) -> None:
    await staff(use_cases_of_app[1], TENANT)

    answer = await sign_in(browser, "")

    assert answer.status_code == 401
    assert "the username or the password is wrong" in answer.text
    assert "orderline_session" not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("tenant", ["shop-1", "00000000-0000-0000-0000-000000000000"])
async def test_a_tenant_that_is_not_a_v4_or_v7_uuid_is_refused_on_the_form(
    browser: httpx.AsyncClient, tenant: str
) -> None:
    answer = await sign_in(browser, tenant)

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "UUID" in answer.text
    assert f'value="{tenant}"' in answer.text  # kept on the form to correct
    assert "orderline_session" not in answer.headers.get("set-cookie", "")


async def test_the_session_row_names_its_tenant(
    use_cases_of_app: tuple[Litestar, UseCases], browser: httpx.AsyncClient, db: Db
) -> None:
    await staff(use_cases_of_app[1], TENANT)

    await sign_in(browser, str(TENANT))

    async with db.snapshot(PUBLIC) as uow:
        rows = await uow.connection.fetch_all("SELECT tenant_id FROM dashboard_sessions")
    assert [UUID(str(row["tenant_id"])) for row in rows] == [TENANT]


async def test_a_sign_in_link_may_name_the_tenant_for_the_form(browser: httpx.AsyncClient) -> None:
    form = await browser.get("/admin/sign-in", params={"tenant": str(TENANT)})

    assert f'value="{TENANT}"' in form.text
