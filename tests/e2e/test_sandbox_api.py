"""Sandbox controls over HTTP (ADR 0041): only with ORDERLINE_SANDBOX, tenants made with a key of their own."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from orderline.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, sandbox=True)


async def test_a_new_sandbox_tenant_comes_with_an_admin_key(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/sandbox/tenants")

    body = created.json()
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/sandbox/tenants/{body['tenantId']}"
    assert body["apiKey"].startswith("olk_")
    listed = await client.get("/v1/admin/users", headers={"Authorization": f"Bearer {body['apiKey']}"})
    assert listed.status_code == 200


async def test_each_new_tenant_is_another(client: httpx.AsyncClient) -> None:
    first, second = (await client.post("/v1/sandbox/tenants")).json(), (await client.post("/v1/sandbox/tenants")).json()

    assert first["tenantId"] != second["tenantId"]


async def test_the_sandbox_routes_are_in_the_api_document_when_on(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert {"/v1/sandbox/tenants", "/v1/sandbox/tenants/{tenant_id}/clock"} <= set(paths)


@pytest.mark.parametrize(
    "body",
    [{"advanceSeconds": 0}, {"advanceSeconds": -5}, {"advanceSeconds": 1.5}, {"advanceSeconds": "60"}, {}],
)
async def test_a_clock_advance_that_is_not_a_positive_whole_number_of_seconds_is_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    tenant = (await client.post("/v1/sandbox/tenants")).json()

    answer = await client.post(
        f"/v1/sandbox/tenants/{tenant['tenantId']}/clock", json=body,
        headers={"Authorization": f"Bearer {tenant['apiKey']}"},
    )  # fmt: skip

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "advanceSeconds"


async def test_the_clock_of_a_tenant_is_not_there_without_credentials(client: httpx.AsyncClient) -> None:
    tenant = (await client.post("/v1/sandbox/tenants")).json()

    answer = await client.post(f"/v1/sandbox/tenants/{tenant['tenantId']}/clock", json={"advanceSeconds": 60})

    assert answer.status_code == 401
