"""GET /metrics over HTTP: who may scrape it, and what it counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from orderline.bootstrap import build
from orderline.config import Settings, SettingsError
from orderline.gateways.testmode import REFUNDS_LATER, SUCCEEDS
from orderline.http.app import create_app
from tests.e2e.http import as_owner, assert_problem, make_pet, place
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, SteppingClock, engine_settings

TOKEN = "scrape-me-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, metrics_token=TOKEN
    )


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@asynccontextmanager
async def serving(settings: Settings, clock: SteppingClock) -> AsyncIterator[httpx.AsyncClient]:
    """Another app in this process, with its own lifespan and client."""
    app: Any = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with (
        lifespan_of(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orderline.test") as client,
    ):
        yield client


def pay_body(order: dict[str, Any], number: str) -> dict[str, Any]:
    card = {"object": "card", "name": "Ada", "number": number, "cvc": "123", "expMonth": 12, "expYear": 2030}
    return {"amount": order["totalAmount"], "currency": order["currency"], "source": card}


async def a_paid_order(client: httpx.AsyncClient, admin: dict[str, str], number: str) -> dict[str, Any]:
    order = await place(client, (await make_pet(client, admin))["id"])
    paid = await client.post(f"/v1/orders/{order['id']}/payment", json=pay_body(order, number), headers=as_owner(order))
    assert paid.status_code == 200, paid.text
    return order


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-the-token-0123456789"}, {"Authorization": TOKEN}]
)
async def test_metrics_are_refused_without_the_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/metrics", headers=headers)

    assert_problem(response, 401, "unauthorized")


async def test_metrics_are_refused_to_an_admin_credential(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/metrics", headers=admin)

    assert_problem(response, 401, "unauthorized")


async def test_metrics_are_off_until_a_token_is_set(database_url: str, clock: SteppingClock) -> None:
    async with serving(engine_settings(database_url, refund_poll_seconds=0), clock) as client:
        response = await client.get("/metrics", headers=SCRAPER)

    body = assert_problem(response, 403, "forbidden")
    assert "ORDERLINE_METRICS_TOKEN" in body["detail"]


def test_a_token_shorter_than_16_characters_is_refused_at_start() -> None:
    with pytest.raises(
        SettingsError, match="ORDERLINE_METRICS_TOKEN is not accepted: expected text of at least 16 characters"
    ):
        Settings.load({"ORDERLINE_METRICS_TOKEN": "short"})


async def test_the_bearer_of_the_token_gets_the_prometheus_text_format(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=SCRAPER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE orderline_http_requests_total counter" in response.text


async def test_a_scraper_that_asks_for_openmetrics_gets_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers={**SCRAPER, "Accept": "application/openmetrics-text"})

    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_metrics_are_not_part_of_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()

    assert "/metrics" not in document["paths"]


async def test_requests_are_counted_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    for order_id in ids:
        await client.get(f"/v1/orders/{order_id}", headers=admin)

    response = await client.get("/metrics", headers=SCRAPER)

    samples = await scrape(client)
    assert (
        value(samples, "orderline_http_requests_total", method="GET", route="/v1/orders/{order_id}", status="404") == 2
    )
    assert not any(order_id in response.text for order_id in ids)


async def test_requests_no_route_matched_share_one_series(client: httpx.AsyncClient) -> None:
    paths = [f"/wp-admin/{uuid.uuid4()}" for _ in range(3)]
    for path in paths:
        await client.get(path)

    response = await client.get("/metrics", headers=SCRAPER)

    samples = await scrape(client)
    assert value(samples, "orderline_http_requests_total", method="GET", route="unmatched", status="404") == 3
    assert "wp-admin" not in response.text


async def test_each_route_has_a_latency_histogram(client: httpx.AsyncClient) -> None:
    await client.get("/v1/livez")

    samples = await scrape(client)

    labels = {"method": "GET", "route": "/v1/livez"}
    assert value(samples, "orderline_http_request_duration_seconds_count", **labels) == 1
    assert value(samples, "orderline_http_request_duration_seconds_bucket", le="+Inf", **labels) == 1


async def test_orders_placed_and_cancelled_are_counted_cancellations_by_reason(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    cancel = {"reason": "FRAUD", "note": "stolen card"}
    await client.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=as_owner(order))
    refused = await client.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=as_owner(order))

    samples = await scrape(client)

    assert refused.status_code == 409
    assert value(samples, "orderline_orders_placed_total") == 1
    assert value(samples, "orderline_orders_cancelled_total", reason="FRAUD") == 1
    assert value(samples, "orderline_orders_cancelled_total", reason="CUSTOMER_REQUEST") == 0


async def test_a_refund_that_completes_is_counted_and_one_still_asked_is_pending(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for number in (SUCCEEDS, REFUNDS_LATER):
        order = await a_paid_order(client, admin, number)
        await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "DUPLICATE"}, headers=as_owner(order))

    samples = await scrape(client)

    assert value(samples, "orderline_payments_total", outcome="succeeded") == 2
    assert value(samples, "orderline_refunds_total", outcome="succeeded") == 1
    assert value(samples, "orderline_refunds_total", outcome="failed") == 0
    assert value(samples, "orderline_refunds_pending") == 1
    assert value(samples, "orderline_orders_cancelled_total", reason="DUPLICATE") == 1


async def test_rate_limit_refusals_are_counted(settings: Settings, clock: SteppingClock) -> None:
    limited = msgspec.structs.replace(settings, rate_limits="write=1/60")
    async with serving(limited, clock) as client:
        statuses = [(await client.post("/v1/orders", json={})).status_code for _ in range(3)]
        samples = await scrape(client)

    assert statuses[1:] == [429, 429]
    assert value(samples, "orderline_rate_limit_refusals_total") == 2


async def test_the_database_connections_in_use_are_shown_with_their_limit(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)

    in_use = value(samples, "orderline_db_connections", state="in_use")
    idle = value(samples, "orderline_db_connections", state="idle")
    limit = value(samples, "orderline_db_connections_limit")
    assert in_use is not None
    assert idle is not None
    assert limit is not None
    assert 0 < in_use + idle <= limit


async def test_two_apps_in_one_process_keep_their_own_counts(
    client: httpx.AsyncClient, app: Litestar, settings: Settings, clock: SteppingClock
) -> None:
    await client.get("/v1/livez")
    async with serving(settings, clock) as other:
        await other.get("/v1/livez")
        await other.get("/v1/livez")
        theirs = await scrape(other)

    ours = await scrape(client)

    labels = {"method": "GET", "route": "/v1/livez", "status": "200"}
    assert (
        value(ours, "orderline_http_requests_total", **labels),
        value(theirs, "orderline_http_requests_total", **labels),
    ) == (1, 2)


async def test_without_redis_there_is_no_circuit_to_show(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)

    assert not any(name == "orderline_redis_circuit_state" for name, _ in samples)


async def test_an_unreachable_redis_shows_its_circuit_open(settings: Settings, clock: SteppingClock) -> None:
    unreachable = msgspec.structs.replace(settings, redis_url="redis://127.0.0.1:1/0")
    async with serving(unreachable, clock) as client:
        await client.get("/v1/livez")
        samples = await scrape(client)

    assert value(samples, "orderline_redis_circuit_state", state="open") == 1
    assert value(samples, "orderline_redis_circuit_state", state="closed") == 0
