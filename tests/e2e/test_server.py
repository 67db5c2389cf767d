"""The server protecting itself, against a real `orderline serve` process: slow and silent clients, too many
connections, SIGTERM with requests in flight, and forged X-Forwarded-For headers."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import Server, free_port, run, serving

# Generous bounds: the behaviour is "does not hang", and the machine is shared.
PATIENCE = 10.0


def settings(**values: str) -> dict[str, str]:
    return {f"ORDERLINE_{name.upper()}": value for name, value in values.items()}


@contextmanager
def connected(server: Server) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
        yield sock


def read_until_closed(sock: socket.socket, within: float = PATIENCE, trickle: bytes = b"") -> bytes:
    """Everything the server sends until it closes the connection, sending ``trickle`` a byte at a time meanwhile."""
    received = b""
    deadline = time.monotonic() + within
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        if trickle:
            try:
                sock.sendall(trickle[:1])
            except OSError:
                trickle = b""  # closed on us: read what is left
            trickle = trickle[1:]
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"still open after {within} s; received {received!r}")


def is_closed(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


LIVEZ = b"GET /v1/livez HTTP/1.1\r\nHost: orderline.test\r\n\r\n"


def test_a_connection_that_sends_nothing_is_closed_after_the_request_timeout(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env=settings(request_timeout="1")) as server, connected(server) as silent:
        began = time.monotonic()
        received = read_until_closed(silent)
        waited = time.monotonic() - began

    assert received == b""
    assert 0.5 < waited < PATIENCE


@pytest.mark.parametrize(
    ("complete", "trickled"),
    [
        pytest.param(
            b"", b"GET /v1/livez HTTP/1.1\r\nHost: orderline.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa", id="headers"
        ),
        pytest.param(
            b"",
            b"POST /v1/auth/tokens HTTP/1.1\r\nHost: orderline.test\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200\r\n\r\n{"username": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            id="body",
        ),
        pytest.param(
            LIVEZ, b"GET /v1/livez HTTP/1.1\r\nHost: orderline.test\r\nX-Slow: aaaaaaaaaaaaaaaaaa", id="next-request"
        ),
    ],
)
def test_a_request_that_trickles_in_is_answered_408_and_closed_at_the_request_timeout(
    tmp_path: Path, complete: bytes, trickled: bytes
) -> None:
    with serving(cwd=tmp_path, env=settings(request_timeout="1")) as server, connected(server) as slow:
        slow.sendall(complete)
        began = time.monotonic()
        received = read_until_closed(slow, trickle=trickled)
        waited = time.monotonic() - began

    assert received.count(b"HTTP/1.1 200") == complete.count(b"GET")
    assert received.endswith(b"request took too long.\r\n")
    assert b"HTTP/1.1 408 Request Timeout" in received
    assert waited < PATIENCE


def test_a_request_sent_in_pieces_within_the_request_timeout_is_answered(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env=settings(request_timeout="5")) as server, connected(server) as client:
        for piece in (LIVEZ[:10], LIVEZ[10:30], LIVEZ[30:]):
            client.sendall(piece)
            time.sleep(0.3)
        answer = client.recv(65536)

    assert answer.startswith(b"HTTP/1.1 200")


def test_at_the_connection_limit_the_connection_that_waited_longest_for_a_request_is_closed(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env=settings(max_connections="3", request_timeout="60")) as server, ExitStack() as stack:
        silent = []
        for _ in range(3):
            silent.append(stack.enter_context(connected(server)))
            time.sleep(0.2)  # the server accepts them in this order

        livez = httpx.get(f"{server.base}/v1/livez", timeout=PATIENCE)
        time.sleep(0.2)

        assert livez.status_code == 200
        assert [is_closed(sock) for sock in silent] == [True, False, False]


def test_health_checks_answer_while_more_silent_sockets_are_open_than_the_file_descriptor_limit(
    tmp_path: Path,
) -> None:
    limit = 256
    env = settings(request_timeout="4")
    with serving(cwd=tmp_path, env=env, open_files=(limit, limit)) as server, ExitStack() as stack:
        silent = [stack.enter_context(connected(server)) for _ in range(limit + 150)]

        began = time.monotonic()
        livez = httpx.get(f"{server.base}/v1/livez", timeout=PATIENCE)
        answered_in = time.monotonic() - began
        deadline = time.monotonic() + 4 + PATIENCE
        while not all(is_closed(sock) for sock in silent) and time.monotonic() < deadline:
            time.sleep(0.5)
        still_open = sum(not is_closed(sock) for sock in silent)
        after = httpx.get(f"{server.base}/v1/livez", timeout=PATIENCE)

    assert livez.status_code == 200
    assert answered_in < 2
    assert still_open == 0
    assert after.status_code == 200
    assert server.output_bytes() < 16_000, server.output()[-4000:]


def test_running_out_of_file_descriptors_logs_little_and_the_server_recovers(tmp_path: Path) -> None:
    limit = 128
    env = settings(request_timeout="2", max_connections="100000")  # more than the descriptors allow
    with serving(cwd=tmp_path, env=env, open_files=(limit, limit)) as server, ExitStack() as stack:
        silent = [stack.enter_context(connected(server)) for _ in range(limit + 150)]
        time.sleep(1)
        logged_while_out = server.output_bytes()
        deadline = time.monotonic() + 2 + PATIENCE
        while not all(is_closed(sock) for sock in silent) and time.monotonic() < deadline:
            time.sleep(0.5)
        livez = httpx.get(f"{server.base}/v1/livez", timeout=PATIENCE)

    assert logged_while_out < 16_000, server.output()[-4000:]
    assert livez.status_code == 200


def test_serve_raises_its_soft_file_descriptor_limit_to_the_hard_limit(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, open_files=(256, 4096)) as server:
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()

    open_files = next(line for line in limits.splitlines() if line.startswith("Max open files")).split()
    assert open_files[3:5] == ["4096", "4096"]


def test_sigterm_cuts_off_a_trickling_upload_after_the_shutdown_grace(tmp_path: Path) -> None:
    env = settings(shutdown_grace="2", request_timeout="600")
    with serving(cwd=tmp_path, env=env) as server, connected(server) as slow:
        slow.sendall(b"POST /v1/users HTTP/1.1\r\nHost: orderline.test\r\nContent-Type: application/json\r\n")
        slow.sendall(b"Content-Length: 100000\r\n\r\n{")
        time.sleep(0.3)

        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        read_until_closed(slow, within=30, trickle=b'"a' * 1000)
        status = server.process.wait(timeout=30)
        stopped_in = time.monotonic() - began

    assert status in (0, -signal.SIGTERM)
    assert 1.5 < stopped_in < 2 + 5


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    body = b'{"username": "drained", "email": "drained@example.com", "password": "correct horse battery"}'
    with serving(cwd=tmp_path, env=settings(shutdown_grace="30")) as server, connected(server) as client:
        client.sendall(
            b"POST /v1/users HTTP/1.1\r\nHost: orderline.test\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:20]
        )
        time.sleep(0.3)

        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        client.sendall(body[20:])
        answer = read_until_closed(client, within=30)
        status = server.process.wait(timeout=30)

    assert answer.startswith(b"HTTP/1.1 201")
    assert status in (0, -signal.SIGTERM)


def test_a_websocket_upgrade_request_is_answered_as_plain_http_without_warnings(tmp_path: Path) -> None:
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    with serving(cwd=tmp_path) as server:
        answers = [httpx.get(f"{server.base}/v1/livez", headers=upgrade) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert "WARNING" not in server.output()


def test_a_forged_x_forwarded_for_does_not_earn_a_fresh_rate_limit(tmp_path: Path) -> None:
    with serving(cwd=tmp_path, env=settings(rate_limits="default=3/60")) as server:
        statuses = [
            httpx.get(f"{server.base}/v1/pets", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(1, 5)
        ]

    assert statuses[0] == 200
    assert statuses[-1] == 429  # the readiness probe counted too: whoever the header names, it is one client


def test_x_forwarded_for_from_a_listed_proxy_names_the_client(tmp_path: Path) -> None:
    env = settings(rate_limits="default=3/60", trusted_proxies="10.0.0.0/8, 127.0.0.1")
    with serving(cwd=tmp_path, env=env) as server:
        answers = [
            httpx.get(f"{server.base}/v1/pets", headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(1, 5)
        ]
        same_client = [
            httpx.get(f"{server.base}/v1/pets", headers={"X-Forwarded-For": "198.51.100.7"}).status_code
            for _ in range(4)
        ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["2", "2", "2", "2"]
    assert same_client == [200, 200, 200, 429]


def test_an_invalid_trusted_proxy_is_refused_at_start_in_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = os.environ | settings(trusted_proxies="10.0.0.0/8,localhost")

    result = run("serve", "--port", str(free_port()), cwd=tmp_path, env=env)

    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "ORDERLINE_TRUSTED_PROXIES: 'localhost' is not an IP address or network" in result.stderr
