"""A sick database never hangs a request: a lock held elsewhere, a stalled server, a missing connection all end
at the statement timeout as a 503 problem; the probes tell the truth about the database and its schema.

Bounds on elapsed time are generous (ten times the timeout and more): the behaviour is "does not hang".
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from alembic import command

from orderline.application.principal import Scope
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import alembic_config
from orderline.storage.revision import head_revision
from tests.e2e.http import Client, assert_problem, make_pet, place
from tests.e2e.lifespan import lifespan_of
from tests.proxy import TcpProxy
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, TEST_JWT_SECRET, SteppingClock, engine_settings

TIMEOUT = 0.5
BOUND = 10 * TIMEOUT + 2  # generous; PostgreSQL's client-side bound is the timeout plus a second
CANCEL = {"reason": "CUSTOMER_REQUEST"}
# What the CLI says waited: SQLite names the file's write lock; PostgreSQL's statement timeout ends the lock wait.
CLI_CAUSE = {"sqlite": " (waiting for another connection's write lock)", "postgresql": ""}

Release = Callable[[], Awaitable[None]]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url,
        refund_poll_seconds=0,
        test_gateway_secret=TEST_GATEWAY_SECRET,
        db_statement_timeout=TIMEOUT,
    )


@asynccontextmanager
async def holding_a_lock(database_url: str, pg_lock: str, *args: Any) -> AsyncIterator[Release]:
    """Another session holds a lock until ``release()``: SQLite's file write lock (BEGIN IMMEDIATE, as
    another process would), or on PostgreSQL whatever ``pg_lock`` locks in an open transaction."""
    url = DatabaseUrl.parse(database_url)
    if url.dialect == "sqlite":
        other = sqlite3.connect(url.target, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")

        async def release_sqlite() -> None:
            if other.in_transaction:
                other.execute("ROLLBACK")

        try:
            yield release_sqlite
        finally:
            await release_sqlite()
            other.close()
        return
    session = await asyncpg.connect(url.target)
    transaction = session.transaction()
    await transaction.start()
    await session.execute(pg_lock, *args)

    async def release_postgres() -> None:
        if not session.is_closed():
            await transaction.rollback()
            await session.close()

    try:
        yield release_postgres
    finally:
        await release_postgres()


def locking_the_order(database_url: str, order: dict[str, Any]) -> Any:
    return holding_a_lock(database_url, "SELECT id FROM orders WHERE id = $1 FOR UPDATE", uuid.UUID(order["id"]))


@pytest.fixture
async def order(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    pet = await make_pet(client, admin)
    return await place(client, pet["id"])


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


# A lock held by another session.


async def test_a_cancel_that_waits_for_a_lock_is_a_503_at_the_timeout(
    client: Client, admin: dict[str, str], order: dict[str, Any], database_url: str
) -> None:
    async with locking_the_order(database_url, order):
        response, elapsed = await timed(client.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin))

    body = assert_problem(response, 503, "service-unavailable")
    assert body["detail"].startswith(f"the database did not answer within {TIMEOUT:g} s")
    assert body["code"] == "service-unavailable"
    assert response.headers["Retry-After"] == "1"
    assert TIMEOUT * 0.9 <= elapsed < BOUND


async def test_a_cancel_refused_for_a_lock_changes_nothing(
    client: Client, admin: dict[str, str], order: dict[str, Any], database_url: str
) -> None:
    async with locking_the_order(database_url, order):
        await client.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin)

    stored = (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()
    pet = (await client.get(f"/v1/pets/{order['petId']}")).json()
    assert (stored["status"], stored["version"]) == ("PLACED", order["version"])
    assert pet["status"] == "PENDING"


async def test_the_same_cancel_succeeds_once_the_lock_is_released(
    client: Client, admin: dict[str, str], order: dict[str, Any], database_url: str
) -> None:
    async with locking_the_order(database_url, order) as release:
        refused = await client.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin)
        await release()
        retried = await client.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin)

    assert refused.status_code == 503
    assert (retried.status_code, retried.json()["status"]) == (200, "CANCELLED")


# A PostgreSQL that stops answering, or goes away, behind a proxy the test controls.


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    """The app on ``settings``, over in-process HTTP, with an admin's headers."""
    app = create_app(settings, lambda: build(settings, clock=SteppingClock(), hasher=FAST_HASHER))
    asgi: Any = app
    async with lifespan_of(app):
        _key, secret = await app.state.use_cases.api_keys.create("admin", frozenset({Scope.ADMIN}))
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
            yield http, {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def proxy(postgres_database: str) -> AsyncIterator[TcpProxy]:
    async with TcpProxy(postgres_database) as started:
        yield started


@pytest.fixture
async def behind_proxy(proxy: TcpProxy) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    settings = engine_settings(
        proxy.url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, db_statement_timeout=TIMEOUT
    )
    async with serving(settings) as running:
        yield running


@pytest.mark.postgres
async def test_a_request_to_a_stalled_postgresql_is_a_503_within_the_bound(
    proxy: TcpProxy, behind_proxy: tuple[Client, dict[str, str]]
) -> None:
    http, admin = behind_proxy
    order = await place(http, (await make_pet(http, admin))["id"])
    proxy.stall()

    response, elapsed = await timed(http.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin))

    assert "did not answer within" in assert_problem(response, 503, "service-unavailable")["detail"]
    assert elapsed < BOUND


@pytest.mark.postgres
async def test_requests_succeed_again_once_a_stalled_postgresql_answers(
    proxy: TcpProxy, behind_proxy: tuple[Client, dict[str, str]]
) -> None:
    http, admin = behind_proxy
    order = await place(http, (await make_pet(http, admin))["id"])
    proxy.stall()
    refused = await http.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin)

    proxy.resume()
    retried = await http.post(f"/v1/orders/{order['id']}/cancel", json=CANCEL, headers=admin)

    assert refused.status_code == 503
    assert (retried.status_code, retried.json()["status"]) == (200, "CANCELLED")


@pytest.mark.postgres
@pytest.mark.parametrize("probe", ["/v1/healthz", "/v1/readyz"])
async def test_each_probe_says_a_stalled_database_did_not_answer_in_time(
    proxy: TcpProxy, behind_proxy: tuple[Client, dict[str, str]], probe: str
) -> None:
    http, _admin = behind_proxy
    proxy.stall()

    response, elapsed = await timed(http.get(probe))

    assert "the database did not answer within" in assert_problem(response, 503, "service-unavailable")["detail"]
    assert "Retry-After" in response.headers
    assert elapsed < BOUND


@pytest.mark.postgres
async def test_healthz_says_the_database_is_not_reachable_once_it_has_gone(
    proxy: TcpProxy, behind_proxy: tuple[Client, dict[str, str]]
) -> None:
    http, _admin = behind_proxy
    await proxy.cut()

    response, elapsed = await timed(http.get("/v1/healthz"))

    assert assert_problem(response, 503, "service-unavailable")["detail"] == "the database is not reachable"
    assert elapsed < BOUND


@pytest.mark.postgres
async def test_livez_answers_while_the_database_is_stalled(
    proxy: TcpProxy, behind_proxy: tuple[Client, dict[str, str]]
) -> None:
    http, _admin = behind_proxy
    proxy.stall()

    response, elapsed = await timed(http.get("/v1/livez"))

    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "unchecked"})
    assert elapsed < TIMEOUT


# Readiness: reachable, and at the newest schema.


async def test_readyz_is_ok_at_the_newest_schema(client: Client) -> None:
    response = await client.get("/v1/readyz")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "schema": head_revision()},
    )


@asynccontextmanager
async def migrated_back_one_revision(database_url: str) -> AsyncIterator[None]:
    """Downgrade the database one revision with Alembic, as an operator rolling back would; upgrade after."""
    config = alembic_config(DatabaseUrl.parse(database_url))
    await asyncio.to_thread(command.downgrade, config, "-1")
    try:
        yield
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")


async def test_readyz_is_a_503_naming_both_schemas_when_the_database_is_behind(
    client: Client, database_url: str
) -> None:
    async with migrated_back_one_revision(database_url):
        response = await client.get("/v1/readyz")

    body = assert_problem(response, 503, "service-unavailable")
    assert body["schema"] != head_revision()
    assert body["neededSchema"] == head_revision()
    assert "orderline migrate" in body["detail"]


async def test_readyz_is_never_refused_by_the_rate_limiter(settings: Settings) -> None:
    limited = msgspec.structs.replace(settings, rate_limits="default=1/60")

    async with serving(limited) as (http, _admin):
        responses = [await http.get("/v1/readyz") for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert "RateLimit-Remaining" not in responses[-1].headers  # probes are not counted at all (ADR 0009)


# The command line says the same, in one line.


async def test_the_cli_reports_a_database_that_did_not_answer_in_one_line(database_url: str, tmp_path: Path) -> None:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}
    environment = {
        **inherited,
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_DB_STATEMENT_TIMEOUT": str(TIMEOUT),
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
    }
    create_key = [sys.executable, "-m", "orderline", "keys", "create", "--scopes", "read:orders"]

    async with holding_a_lock(database_url, "LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"):
        result = await asyncio.to_thread(
            subprocess.run, create_key, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
        )

    assert result.returncode == 1
    database = DatabaseUrl.parse(database_url)
    assert result.stderr.splitlines() == [
        f"orderline: the database did not answer within {TIMEOUT:g} s{CLI_CAUSE[database.dialect]} (in {database})"
    ]
