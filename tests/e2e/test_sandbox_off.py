"""Without ORDERLINE_SANDBOX the sandbox's routes do not exist: 404 like any unknown path, absent from the document."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/sandbox/tenants"),
        ("DELETE", "/v1/sandbox/tenants/019b4141-0000-7000-8000-00000000feed"),
        ("POST", "/v1/sandbox/tenants/019b4141-0000-7000-8000-00000000feed/clock"),
        ("POST", "/v1/sandbox/tenants/019b4141-0000-7000-8000-00000000feed/faults"),
    ],
)
async def test_sandbox_routes_are_unknown_paths_when_the_sandbox_is_off(
    client: httpx.AsyncClient, admin: dict[str, str], method: str, path: str
) -> None:
    unknown = await client.request(method, "/v1/no-such-thing", headers=admin, json={})

    answer = await client.request(method, path, headers=admin, json={"advanceSeconds": 60})

    assert (answer.status_code, answer.json()["type"]) == (404, unknown.json()["type"])


async def test_the_api_document_names_no_sandbox_route_when_the_sandbox_is_off(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert not [path for path in paths if "sandbox" in path]
