"""`orderline serve` with ORDERLINE_LOG_FORMAT=json, as a real process: every line on stderr is one JSON object.

uvicorn's own lines included, and one access line per request carrying the id the response carried.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.conftest import _empty_postgres
from tests.e2e.process import serving
from tests.support import ENGINES, TEST_GATEWAY_SECRET, TEST_JWT_SECRET


@pytest.fixture(scope="module", params=ENGINES)
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[httpx.Response], list[dict[str, Any]]]:
    """A few requests to a JSON-logging server, then its whole stderr, each line parsed as JSON.

    Once per engine for the module: starting a server is the slow part.
    """
    workdir = tmp_path_factory.mktemp("json-logs")
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'orderline.db'}"
    else:
        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_empty_postgres(database_url))
    env = {"ORDERLINE_LOG_FORMAT": "json", "ORDERLINE_DATABASE_URL": database_url,
           "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET}  # fmt: skip
    with serving("--demo", cwd=workdir, env=env) as server:
        base = server.base
        pet = httpx.get(f"{base}/v1/pets", params={"limit": 1}).json()["data"][0]
        responses = [
            httpx.get(f"{base}/v1/livez", headers={"X-Request-Id": "json-logs-1"}),
            httpx.get(f"{base}/v1/livez"),
            httpx.get(f"{base}/no/such/thing"),
            httpx.post(f"{base}/v1/orders", json={"petId": pet["id"]}),
        ]
    lines = server.output().splitlines()
    assert lines, "serve wrote nothing to stderr"
    return responses, [json.loads(line) for line in lines]


def test_every_line_on_stderr_is_one_json_object_with_an_event_and_a_level(
    session: tuple[list[httpx.Response], list[dict[str, Any]]],
) -> None:
    _, lines = session

    assert all(isinstance(line, dict) and {"event", "level", "timestamp"} <= line.keys() for line in lines)


def test_uvicorns_own_lines_are_json_too(session: tuple[list[httpx.Response], list[dict[str, Any]]]) -> None:
    _, lines = session

    uvicorn = [line["event"] for line in lines if line.get("logger", "").startswith("uvicorn")]

    assert "Application startup complete." in uvicorn
    assert any(event.startswith("Uvicorn running on") for event in uvicorn)
    assert "Shutting down" in uvicorn


def test_each_request_has_an_access_line_with_the_request_id_its_response_carried(
    session: tuple[list[httpx.Response], list[dict[str, Any]]],
) -> None:
    responses, lines = session

    access = {line["request_id"]: line for line in lines if line["event"] == "request"}

    assert responses[0].headers["x-request-id"] == "json-logs-1"
    for response in responses:
        line = access[response.headers["x-request-id"]]
        assert (line["method"], line["path"], line["status"]) == (
            response.request.method,
            response.request.url.path,
            response.status_code,
        )


def test_uvicorns_own_access_line_is_replaced_by_ours(
    session: tuple[list[httpx.Response], list[dict[str, Any]]],
) -> None:
    _, lines = session

    assert not [line for line in lines if line.get("logger") == "uvicorn.access"]


def test_a_placed_order_is_one_business_event_line_of_its_request(
    session: tuple[list[httpx.Response], list[dict[str, Any]]],
) -> None:
    responses, lines = session
    placed = responses[-1]

    events = [line for line in lines if line["event"] == "order placed"]

    assert placed.status_code == 201
    assert [(line["order_id"], line["request_id"]) for line in events] == [
        (placed.json()["id"], placed.headers["x-request-id"])
    ]
