"""The access line: one per request, routed or not, with the request id the response carried."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orderline import logs


@pytest.fixture
def json_logs() -> Iterator[None]:
    """Log as `orderline serve` does with ORDERLINE_LOG_FORMAT=json, for this test only."""
    logs.configure("info", "json")
    yield
    logs.configure("info", "console")


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line written to stderr, each of which must be one JSON object."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == "request"]


@pytest.mark.usefixtures("json_logs")
@pytest.mark.parametrize(
    ("method", "target", "route", "status"),
    [
        ("GET", "/v1/livez", "/v1/livez", 200),
        ("GET", "/v1/pets?limit=0", "/v1/pets", 422),
        ("GET", "/no/such/thing", None, 404),
        ("DELETE", "/v1/inventory", None, 405),
    ],
)
async def test_each_request_has_one_access_line_with_the_request_id_it_answered_with(
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    method: str,
    target: str,
    route: str | None,
    status: int,
) -> None:
    capsys.readouterr()

    response = await client.request(method, target)

    [line] = access_lines(logged(capsys))
    assert line["request_id"] == response.headers["x-request-id"]
    path = target.partition("?")[0]
    assert (line["method"], line["path"], line["route"], line["status"]) == (method, path, route, status)
    assert line["duration_ms"] >= 0
    assert line["level"] == "info"


@pytest.mark.usefixtures("json_logs")
async def test_the_access_line_keeps_a_request_id_the_client_sent(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    await client.get("/v1/livez", headers={"X-Request-Id": "trace-42"})

    assert [line["request_id"] for line in access_lines(logged(capsys))] == ["trace-42"]


@pytest.mark.usefixtures("json_logs")
def test_a_standard_library_error_with_its_traceback_is_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")

    [line] = logged(capsys)
    assert (line["event"], line["level"], line["logger"]) == ("Exception in ASGI application", "error", "uvicorn.error")
    assert "RuntimeError: boom" in line["exception"]
