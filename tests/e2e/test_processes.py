"""`orderline serve --workers N` as real processes on PostgreSQL: two web processes behind one socket.

Each test pins a keep-alive connection to each process (a probe with our own X-Request-Id, whose access line
names the process that answered it), so what it sends to "both processes" really reaches both. Requests land
on both; one rate limit holds across both; one Idempotency-Key sent to both at once makes one order; SIGTERM
drains both; a process that dies is replaced; the demo catalogue is added once; SQLite refuses.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from orderline.application.demo import DEMO_PETS
from tests.e2e.process import Server, run, serving
from tests.support import ENGINES, TEST_GATEWAY_SECRET, TEST_JWT_SECRET

ON_POSTGRES = pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)

PINNING_TRIES = 60  # new connections tried before each of two processes holds one (each lands at random)


def env(database_url: str, **settings: str) -> dict[str, str]:
    return {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
        "ORDERLINE_LOG_FORMAT": "json",
        "ORDERLINE_REFUND_POLL_SECONDS": "0",
        **{f"ORDERLINE_{name.upper()}": value for name, value in settings.items()},
    }


def log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.output().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def web_pids(server: Server) -> set[int]:
    """The children the parent says are running: those it started, less those that died, plus their replacements."""
    lines = log_lines(server)
    started = next(line for line in lines if line["event"] == "web processes started")
    replaced = {line["died"]: line["pid"] for line in lines if line["event"] == "web process replaced"}
    return (set(started["pids"]) | set(replaced.values())) - set(replaced)


def listening(server: Server, within: float = 60) -> set[int]:
    """The web processes, once each says it listens (`serve` is ready when the first one answers)."""
    deadline = time.monotonic() + within
    while (pids := web_pids(server)) - {line["pid"] for line in log_lines(server) if line["event"] == "listening"}:
        assert time.monotonic() < deadline, f"not every web process listens:\n{server.output()}"
        time.sleep(0.05)
    return pids


def answered_by(server: Server, request_id: str, within: float = 5) -> int:
    """The pid on the access line of the request with this X-Request-Id."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in log_lines(server):
            if line["event"] == "request" and line.get("request_id") == request_id:
                pid: int = line["pid"]
                return pid
        time.sleep(0.02)
    raise AssertionError(f"no access line for {request_id}:\n{server.output()}")


def ask(
    connection: http.client.HTTPConnection, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    send(connection, method, path, body, **headers)
    return answer(connection)


def send(connection: http.client.HTTPConnection, method: str, path: str, body: Any = None, **headers: str) -> None:
    names = {name.replace("_", "-"): value for name, value in headers.items()}
    if body is not None:
        names["Content-Type"] = "application/json"
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=names)


def answer(connection: http.client.HTTPConnection) -> tuple[int, dict[str, str], Any]:
    response = connection.getresponse()
    raw = response.read()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, headers, json.loads(raw) if "json" in headers.get("content-type", "") else raw


@contextmanager
def pinned(server: Server) -> Iterator[dict[int, http.client.HTTPConnection]]:
    """One open connection to each web process, by pid, once every one of them listens."""
    pids = listening(server)
    connections: dict[int, http.client.HTTPConnection] = {}
    with ExitStack() as closing:
        for _ in range(PINNING_TRIES):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            closing.callback(connection.close)
            request_id = f"pin-{uuid.uuid4()}"
            status, _headers, _body = ask(connection, "GET", "/v1/livez", X_Request_Id=request_id)
            assert status == 200
            connections.setdefault(answered_by(server, request_id), connection)
            if set(connections) == pids:
                break
        else:
            raise AssertionError(f"{PINNING_TRIES} connections all reached {set(connections)} of {pids}")
        yield connections


async def order_count(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM orders")
        return count
    finally:
        await connection.close()


@ON_POSTGRES
def test_requests_land_on_both_processes_and_each_access_line_names_its_process(
    database_url: str, tmp_path: Path
) -> None:
    with serving("--workers", "2", cwd=tmp_path, env=env(database_url)) as server, pinned(server) as connections:
        for pid, connection in connections.items():
            request_id = f"pets-{pid}"
            status, _headers, _body = ask(connection, "GET", "/v1/pets", X_Request_Id=request_id)

            assert status == 200
            assert answered_by(server, request_id) == pid

    assert len(connections) == 2
    assert server.process.pid not in connections  # the parent serves nothing itself


@ON_POSTGRES
def test_each_process_closes_a_request_that_does_not_arrive_within_the_request_timeout(
    database_url: str, tmp_path: Path
) -> None:
    settings = env(database_url, request_timeout="1")
    with serving("--workers", "2", cwd=tmp_path, env=settings) as server, pinned(server) as connections:
        for connection in connections.values():
            connection.putrequest("POST", "/v1/users")
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", "100")
            connection.endheaders(b'{"user')  # and nothing more
        began = time.monotonic()
        statuses = [answer(connection)[0] for connection in connections.values()]
        waited = time.monotonic() - began

    assert statuses == [408, 408]
    assert waited < 10


@ON_POSTGRES
def test_a_rate_limit_holds_across_both_processes_combined(database_url: str, tmp_path: Path) -> None:
    limits = env(database_url, rate_limits="default=10/60")
    with serving("--workers", "2", cwd=tmp_path, env=limits) as server, pinned(server) as connections:
        first, second = connections.values()
        answers = [ask(connection, "GET", "/v1/pets") for _ in range(8) for connection in (first, second)]

    statuses = [status for status, _headers, _body in answers]
    assert statuses == [200] * 10 + [429] * 6
    remaining = [int(headers["ratelimit-remaining"]) for _status, headers, _body in answers]
    assert remaining == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0]


@ON_POSTGRES
async def test_one_idempotency_key_sent_to_both_processes_at_once_makes_one_order(
    database_url: str, tmp_path: Path
) -> None:
    with (
        serving("--workers", "2", "--demo", cwd=tmp_path, env=env(database_url)) as server,
        pinned(server) as connections,
    ):
        first, second = connections.values()
        _status, _headers, pets = ask(first, "GET", "/v1/pets?limit=100")
        pet = next(pet for pet in pets["data"] if pet["status"] == "AVAILABLE")
        key = f"checkout-{uuid.uuid4()}"

        for connection in (first, second):  # both sent before either is read: in flight together
            send(connection, "POST", "/v1/orders", {"petId": pet["id"]}, Idempotency_Key=key)
        answers = [answer(first), answer(second)]

    statuses = sorted(status for status, _headers, _body in answers)
    assert statuses in ([201, 201], [201, 409])
    assert len({body["id"] for status, _headers, body in answers if status == 201}) == 1
    assert await order_count(database_url) == 1


@ON_POSTGRES
def test_sigterm_to_the_parent_drains_the_requests_in_flight_on_both_processes(
    database_url: str, tmp_path: Path
) -> None:
    bodies = {
        name: json.dumps({"username": name, "email": f"{name}@example.com", "password": "correct horse battery"})
        for name in ("drained-one", "drained-two")
    }
    with serving("--workers", "2", cwd=tmp_path, env=env(database_url, shutdown_grace="30")) as server:
        with pinned(server) as connections:
            for connection, body in zip(connections.values(), bodies.values(), strict=True):
                connection.putrequest("POST", "/v1/users")
                connection.putheader("Content-Type", "application/json")
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body[:20].encode())  # half a request: in flight when SIGTERM comes

            began = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            for connection, body in zip(connections.values(), bodies.values(), strict=True):
                connection.send(body[20:].encode())
            statuses = [answer(connection)[0] for connection in connections.values()]
            status = server.process.wait(timeout=30)
            stopped_in = time.monotonic() - began
        children_alive = [pid for pid in connections if _alive(pid)]

    assert statuses == [201, 201]
    assert status == 0
    assert stopped_in < 10
    assert children_alive == []


@ON_POSTGRES
def test_a_web_process_that_dies_is_replaced_and_the_service_goes_on(database_url: str, tmp_path: Path) -> None:
    with serving("--workers", "2", cwd=tmp_path, env=env(database_url)) as server:
        victim = min(web_pids(server))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in web_pids(server):
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        with pinned(server) as connections:
            statuses = [ask(connection, "GET", "/v1/pets")[0] for connection in connections.values()]

        died = [line for line in log_lines(server) if line["event"] == "web process died"]
        assert statuses == [200, 200]
        assert victim not in connections
        assert [(line["pid"], line["exit_code"]) for line in died] == [(victim, -signal.SIGKILL)]
        assert server.stop() == 0


@ON_POSTGRES
def test_web_processes_whose_parent_was_killed_outright_stop_by_themselves(database_url: str, tmp_path: Path) -> None:
    with serving("--workers", "2", cwd=tmp_path, env=env(database_url)) as server:
        children = listening(server)
        server.process.kill()
        server.process.wait(timeout=10)

        deadline = time.monotonic() + 30
        while alive := [pid for pid in children if _alive(pid)]:
            assert time.monotonic() < deadline, f"still serving without a parent: {alive}"
            time.sleep(0.1)


@ON_POSTGRES
def test_the_demo_catalogue_is_added_once_before_the_web_processes_start(database_url: str, tmp_path: Path) -> None:
    with serving("--workers", "2", "--demo", cwd=tmp_path, env=env(database_url)) as server:
        with pinned(server) as connections:
            counts = {pid: len(ask(c, "GET", "/v1/pets?limit=100")[2]["data"]) for pid, c in connections.items()}
        demo_lines = [line for line in log_lines(server) if line["event"] == "demo catalogue"]

    assert list(counts.values()) == [len(DEMO_PETS)] * 2
    assert [line["pets_added"] for line in demo_lines] == [len(DEMO_PETS)]
    assert demo_lines[0]["pid"] == server.process.pid


def test_several_processes_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    for args, settings in ((("--workers", "2"), {}), ((), {"ORDERLINE_WORKERS": "3"})):
        result = run("serve", "--port", "0", *args, cwd=tmp_path, env=os.environ | settings)

        assert result.returncode == 1
        assert "needs PostgreSQL" in result.stderr
        assert "SQLite has one writer" in result.stderr
    assert not (tmp_path / "orderline.db").exists()  # refused before anything was made


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie (an orphan's exit waits for whoever adopted it to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
