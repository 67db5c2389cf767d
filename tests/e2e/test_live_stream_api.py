"""Live event streams over real HTTP (uvicorn on a free port, httpx streaming), on each engine: events appear
live, a stream resumes after Last-Event-ID without loss or duplicates, and only the order's owner or an admin
may follow it. Events are committed on a connection of the test's own, as another process would write them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.http import assert_problem, make_pet, place
from tests.e2e.lifespan import lifespan_of
from tests.e2e.process import run, serving
from tests.e2e.sse import following, served, write_event
from tests.redis_server import redis_server
from tests.support import ENGINES, FAST_HASHER, Db, SteppingClock, a_pet


@pytest.fixture
def poll_seconds() -> float:
    """How often streams read the outbox unwoken; tests of a wake-up path raise it far above their guard."""
    return 0.05


@pytest.fixture
def heartbeat_seconds() -> float:
    return 60.0


@pytest.fixture
def settings(settings: Settings, poll_seconds: float, heartbeat_seconds: float) -> Settings:
    return msgspec.structs.replace(
        settings, stream_poll_seconds=poll_seconds, stream_heartbeat_seconds=heartbeat_seconds
    )


@pytest.fixture
async def base(app: Litestar) -> AsyncIterator[str]:
    async with served(app) as url:
        yield url


@pytest.fixture
async def http(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(5.0, read=20.0)) as client:
        yield client


@pytest.fixture
async def order(client: httpx.AsyncClient, admin: dict[str, str], alice: dict[str, str]) -> dict[str, Any]:
    """Alice's order."""
    pet = await make_pet(client, admin, stock=10)
    return await place(client, pet["id"], headers=alice)


def _path(order: dict[str, Any]) -> str:
    return f"/v1/orders/{order['id']}/events"


async def test_an_order_owner_sees_an_event_of_their_order_appear_live(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str]
) -> None:
    async with following(http, _path(order), alice) as stream:
        seq = await write_event(db, order["id"], "order.statusChanged")

        event = await stream.next()

    assert (event.id, event.event) == (str(seq), "order.statusChanged")
    assert event.data["eventType"] == "order.statusChanged"
    assert event.data["data"] == {"orderId": order["id"]}


async def test_an_order_stream_carries_only_that_orders_events(
    http: httpx.AsyncClient, db: Db, client: httpx.AsyncClient, admin: dict[str, str], order: dict[str, Any],
    alice: dict[str, str],
) -> None:  # fmt: skip
    other = await place(client, (await make_pet(client, admin, name="Rex"))["id"], headers=alice)
    async with following(http, _path(order), alice) as stream:
        await write_event(db, other["id"])
        await write_event(db, None, "ping")
        mine = await write_event(db, order["id"])

        event = await stream.next()

    assert event.id == str(mine)


async def test_a_stream_resumed_after_its_last_event_id_misses_nothing_and_repeats_nothing(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str]
) -> None:
    async with following(http, _path(order), alice) as stream:
        first = [await write_event(db, order["id"]) for _ in range(3)]
        seen = [event.id for event in await stream.take(3)]
    missed = [await write_event(db, order["id"]) for _ in range(2)]

    async with following(http, _path(order), alice | {"Last-Event-ID": seen[-1]}) as resumed:
        again = [event.id for event in await resumed.take(2)]
        later = await write_event(db, order["id"])
        live = await resumed.next()

    assert seen == [str(seq) for seq in first]
    assert again == [str(seq) for seq in missed]
    assert live.id == str(later)


async def test_last_event_id_may_come_as_a_query_parameter_and_zero_means_from_the_first_event(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str]
) -> None:
    written = [await write_event(db, order["id"]) for _ in range(2)]

    async with following(http, _path(order), alice, lastEventId="0") as stream:
        created, *replayed = await stream.take(3)

    assert created.event == "order.created"  # written with the order itself (ADR 0027)
    assert [event.id for event in replayed] == [str(seq) for seq in written]


async def test_an_admin_follows_any_order_and_the_whole_shop(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], admin: dict[str, str]
) -> None:
    async with following(http, _path(order), admin) as of_order, following(http, "/v1/admin/events", admin) as every:
        ping = await write_event(db, None, "ping")
        mine = await write_event(db, order["id"])

        assert (await of_order.next()).id == str(mine)
        assert [event.id for event in await every.take(2)] == [str(ping), str(mine)]


@pytest.mark.parametrize("heartbeat_seconds", [0.05])
async def test_a_quiet_stream_carries_keep_alive_comments_between_its_events(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str]
) -> None:
    async with following(http, _path(order), alice) as stream:
        while not stream.comments:
            await stream.next_line()
        seq = await write_event(db, order["id"])
        event = await stream.next()

    assert stream.comments[0] == "keep-alive"
    assert event.id == str(seq)


@pytest.mark.parametrize("who", ["bob", "reader"])
async def test_someone_elses_order_stream_is_not_found(
    http: httpx.AsyncClient, order: dict[str, Any], who: str, bob: dict[str, str], reader: dict[str, str]
) -> None:
    headers = {"bob": bob, "reader": reader}[who]

    response = await http.get(_path(order), headers=headers)

    assert_problem(response, 404, "not-found")


async def test_a_stream_needs_credentials_and_the_shop_stream_an_admin(
    http: httpx.AsyncClient, order: dict[str, Any], alice: dict[str, str]
) -> None:
    assert_problem(await http.get(_path(order)), 401, "unauthorized")
    assert_problem(await http.get("/v1/admin/events", headers=alice), 403, "forbidden")


@pytest.mark.parametrize("last_event_id", ["abc", "-1", "1e3", "12345678901234567890"])
async def test_a_last_event_id_that_is_not_one_is_a_validation_error(
    http: httpx.AsyncClient, order: dict[str, Any], alice: dict[str, str], last_event_id: str
) -> None:
    response = await http.get(_path(order), headers=alice | {"Last-Event-ID": last_event_id})

    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize("last_event_id", ["4242", "9999999999999999999"])
async def test_a_last_event_id_this_stream_never_sent_is_a_bad_request(
    http: httpx.AsyncClient, order: dict[str, Any], alice: dict[str, str], last_event_id: str
) -> None:
    response = await http.get(_path(order), headers=alice | {"Last-Event-ID": last_event_id})

    assert_problem(response, 400, "bad-request")


async def test_another_orders_event_id_does_not_resume_this_orders_stream(
    http: httpx.AsyncClient, db: Db, client: httpx.AsyncClient, admin: dict[str, str], order: dict[str, Any],
    alice: dict[str, str],
) -> None:  # fmt: skip
    other = await place(client, (await make_pet(client, admin, name="Rex"))["id"], headers=alice)
    foreign = await write_event(db, other["id"])

    response = await http.get(_path(order), params={"lastEventId": str(foreign)}, headers=alice)

    assert_problem(response, 400, "bad-request")


async def test_past_the_limit_per_principal_a_new_stream_is_refused_with_retry_after(
    http: httpx.AsyncClient, order: dict[str, Any], alice: dict[str, str], settings: Settings
) -> None:
    async with following(http, _path(order), alice), following(http, _path(order), alice):
        limit = settings.stream_limit_per_principal
        streams = [following(http, _path(order), alice) for _ in range(limit - 2)]
        for stream in streams:
            await stream.__aenter__()
        try:
            response = await http.get(_path(order), headers=alice)
        finally:
            for stream in streams:
                await stream.__aexit__(None, None, None)

    body = assert_problem(response, 429, "too-many-streams")
    assert body["limit"] == limit
    assert int(response.headers["Retry-After"]) > 0


async def test_a_closed_stream_gives_its_slot_back(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], settings: Settings
) -> None:
    for _ in range(settings.stream_limit_per_principal + 1):
        async with following(http, _path(order), alice) as stream:
            seq = await write_event(db, order["id"])
            assert (await stream.next()).id == str(seq)


@pytest.mark.parametrize("poll_seconds", [3600.0])
async def test_a_commit_in_this_process_wakes_its_streams_at_once(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], app_use_cases: UseCases
) -> None:
    async with following(http, _path(order), alice) as stream:
        seq = await write_event(db, order["id"])  # on a connection of its own: nobody is told
        await a_pet(app_use_cases, "Tom")  # this process commits something: its streams look again

        event = await stream.next()

    assert event.id == str(seq)


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)
@pytest.mark.parametrize("poll_seconds", [3600.0])
async def test_an_event_another_connection_writes_and_notifies_reaches_the_stream(
    http: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], database_url: str
) -> None:
    async with following(http, _path(order), alice) as stream:
        seq = await write_event(db, order["id"], notify=True)

        event = await stream.next()

    assert event.id == str(seq)


async def test_an_event_another_process_publishes_on_redis_reaches_the_stream(
    settings: Settings, clock: SteppingClock, db: Db, tmp_path: Path
) -> None:
    with redis_server(tmp_path) as redis:
        shared = msgspec.structs.replace(settings, redis_url=redis.url, stream_poll_seconds=3600.0)
        app = create_app(shared, lambda: build(shared, clock=clock, hasher=FAST_HASHER))
        async with lifespan_of(app), served(app) as base, httpx.AsyncClient(base_url=base) as http:
            use_cases: UseCases = app.state.use_cases
            _key, secret = await use_cases.api_keys.create("ops", frozenset({Scope.ADMIN}))
            async with following(http, "/v1/admin/events", {"Authorization": f"Bearer {secret}"}) as stream:
                seq = await write_event(db, None, "ping")  # nobody is told of this row...
                other = await asyncio.to_thread(_cli_commits, shared, tmp_path)  # ...until another process commits

                event = await stream.next()

    assert other.returncode == 0, other.stderr
    assert event.id == str(seq)


def _cli_commits(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`orderline keys create` in a process of its own, on the same database and Redis: it commits (an audit
    entry), so it publishes a wake-up."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}
    secrets = {
        "ORDERLINE_JWT_SECRET": settings.jwt_secret,
        "ORDERLINE_TEST_GATEWAY_SECRET": settings.test_gateway_secret,
    }
    env |= {name: value for name, value in secrets.items() if value} | {"ORDERLINE_REDIS_URL": settings.redis_url or ""}
    return run("keys", "create", "--scopes", "read:orders", "--database-url", settings.database_url, cwd=cwd, env=env)


def _admin_key(url: str, cwd: Path) -> str:
    created = run("keys", "create", "--scopes", "admin", "--database-url", url, cwd=cwd)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


async def test_on_sigterm_open_streams_end_cleanly_and_the_server_exits_without_waiting_out_its_grace(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    secret = _admin_key(url, tmp_path)
    with serving("--database-url", url, cwd=tmp_path, env={"ORDERLINE_SHUTDOWN_GRACE": "600"}) as server:
        async with httpx.AsyncClient(base_url=server.base) as http:
            headers = {"Authorization": f"Bearer {secret}"}
            async with following(http, "/v1/admin/events", headers) as stream:
                server.process.send_signal(signal.SIGTERM)

                await stream.ends()  # a complete response: the stream ended, it was not cut off

        status = await asyncio.to_thread(server.process.wait, 60)

    assert status in (0, -signal.SIGTERM), server.output()
    assert "timeout graceful shutdown exceeded" not in server.output()
