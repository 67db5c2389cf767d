"""Sick Redis servers for tests: a redis-server of a test's own to freeze, a black hole, a slow network.

Outside CI a missing redis-server skips the test with a message; with CI=true it fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from redis.exceptions import RedisError

START_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A redis-server process of one test; SIGSTOP freezes it as a hung host would: it accepts, never answers."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


def _redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server): the sick-Redis tests did not run"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _answers(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free port, without persistence; thawed and killed afterwards, whatever happened."""
    port = _free_port()
    log = directory / "redis.log"
    command = [_redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*command, "--dir", str(directory), "--logfile", str(log)])
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server on port {port} did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        yield RedisServer(process, port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait(timeout=START_SECONDS)


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """The URL of a port that listens and never accepts: connections open in the kernel, and nothing answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@asynccontextmanager
async def slow_to_connect(server: RedisServer, delay: float) -> AsyncIterator[str]:
    """The URL of a proxy to ``server`` that holds each new connection ``delay`` seconds before passing bytes on.

    A connection that is made slowly but then works, as over a congested link: what a pool that connects
    while holding its lock turns into a queue.
    """
    writers: list[asyncio.StreamWriter] = []
    relays: set[asyncio.Task[None]] = set()

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a connection's handler runs in a task of its own
        relays.add(task)
        writers.append(client_writer)
        await asyncio.sleep(delay)
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", server.port)
        writers.append(server_writer)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        yield f"redis://127.0.0.1:{proxy.sockets[0].getsockname()[1]}/0"
    finally:
        proxy.close()
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        for writer in writers:
            writer.close()
        await proxy.wait_closed()
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
