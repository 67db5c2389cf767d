"""The service under test: `orderline serve` as a subprocess on a free loopback port, and its CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from bench.client import Connection, encode_request

STARTUP_TIMEOUT_S = 60.0

# The load generator is one client sending thousands of requests a minute: measure the server, not its limits.
UNLIMITED = "default=100000000/60,write=100000000/60,auth=100000000/60"
# PostgreSQL keeps no signing keys, so its operator gives them; these sign only the benchmark's own throwaway
# database on loopback. SQLite makes its key file beside the database, as by default.
POSTGRES_KEYS = {
    "ORDERLINE_JWT_SECRET": "bench-only-jwt-secret-0123456789abcdef",
    "ORDERLINE_TEST_GATEWAY_SECRET": "whsec_YmVuY2gtb25seS1nYXRld2F5LXNlY3JldC0wMTIzNDU=",
}


class ServerError(Exception):
    """The service did not start, or one of its commands failed; the message says which and why."""


class ServerExitedError(ServerError):
    """The service exited while it was being measured."""


def environment(database_url: str, **variables: str) -> dict[str, str]:
    """The environment of an orderline command on this database: ours, with the keys PostgreSQL needs."""
    keys = POSTGRES_KEYS if database_url.startswith("postgres") else {}
    return {**os.environ, **keys, **variables}


async def orderline(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    """Run ``python -m orderline ARGS`` with the benchmark's interpreter; its stdout, or ServerError."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orderline", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await process.communicate(None if stdin is None else stdin.encode())
    if process.returncode != 0:
        raise ServerError(f"orderline {args[0]} failed: {err.decode(errors='replace').strip()}")
    return out.decode()


async def create_admin_key(database_url: str) -> str:
    out = await orderline(
        "keys", "create", "--scopes", "admin", "--database-url", database_url, env=environment(database_url)
    )
    return out.strip().splitlines()[-1]  # the CLI prints the key alone on its last line


async def create_user(database_url: str, username: str, password: str) -> None:
    await orderline(
        "users", "create", "--username", username, "--email", f"{username}@example.com", "--password-stdin",
        "--database-url", database_url, env=environment(database_url), stdin=password + "\n",
    )  # fmt: skip


async def serves_workers() -> bool:
    """Whether this orderline has `serve --workers` (issue 11); the 1 vs 2 processes run needs it."""
    return "--workers" in await orderline("serve", "--help", env={**os.environ, "COLUMNS": "200"})


class Server:
    """``async with Server(url, log_path) as server:`` — serving on ``server.port`` until the block ends."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        log_level: str,
        *,
        launcher: Sequence[str] = ("-m", "orderline"),
        serve_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        database_port: int | None = None,
    ) -> None:
        """``launcher``: what runs ``orderline`` (bench/launch.py counts thread hops); ``serve_args``: extra
        flags; ``database_port``: connect through this port instead (the counting proxy)."""
        self.database_url = database_url
        self.log_path = log_path
        self.log_level = log_level
        self.port = _free_port()
        self.launcher = list(launcher)
        self.serve_args = list(serve_args)
        self.extra_env = env or {}
        self.database_port = database_port
        self._process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Server:
        # The log goes to a file, not a pipe: a pipe nobody reads would fill and stall the server.
        with self.log_path.open("wb") as log:
            url = self.database_url
            if self.database_port is not None:
                url = urlunsplit(
                    urlsplit(url)._replace(netloc=f"{urlsplit(url).username}@127.0.0.1:{self.database_port}")
                )
            variables = {"ORDERLINE_LOG_LEVEL": self.log_level, "ORDERLINE_RATE_LIMITS": UNLIMITED, **self.extra_env}
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, *self.launcher, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--database-url", url, "--demo", *self.serve_args,
                stdout=log, stderr=log, env=environment(self.database_url, **variables),
            )  # fmt: skip
        try:
            await self._wait_until_ready()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _wait_until_ready(self) -> None:
        assert self._process is not None
        probe = encode_request("GET", "/v1/healthz")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise ServerError(f"the server exited with {self._process.returncode}:\n{self.log_tail()}")
            connection = Connection("127.0.0.1", self.port)
            try:
                if (await connection.send(probe)).status == 200:
                    return
            except (OSError, asyncio.IncompleteReadError):
                pass  # not listening yet
            finally:
                await connection.close()
            await asyncio.sleep(0.1)
        waited = f"/v1/healthz did not answer 200 within {STARTUP_TIMEOUT_S:.0f} s"
        raise ServerError(f"{waited}:\n{self.log_tail()}")

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def check_running(self, during: str) -> None:
        """Raise ServerExitedError if the server is gone, naming the signal when one ended it."""
        assert self._process is not None
        code = self._process.returncode
        if code is None:
            return
        # A negative code is the signal that ended it: nothing in the benchmark sends one before the end.
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        raise ServerExitedError(f"the server {how} during {during}")

    async def _stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        try:
            await asyncio.wait_for(self._process.wait(), timeout=15)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Uvicorn:
    """``async with Uvicorn(...) as app:`` — an ASGI app of the benchmark's own (``target``, uvicorn's "module:attr")
    under uvicorn + uvloop + httptools, 1 process, no access log; ready once ``probe`` answers ``status``."""

    def __init__(
        self, name: str, target: str, log_path: Path, *, probe: str, status: int, factory: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.log_path = log_path
        self.port = _free_port()
        self._command = [
            sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else []), "--host", "127.0.0.1",
            "--port", str(self.port), "--loop", "uvloop", "--http", "httptools", "--workers", "1",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self._env = env
        self._probe = probe
        self._status = status
        self._process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(*self._command, stdout=log, stderr=log, env=self._env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise ServerError(f"{self.name} exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            connection = Connection("127.0.0.1", self.port)
            try:
                if (await connection.send(encode_request("GET", self._probe))).status == self._status:
                    return self
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                await connection.close()
            await asyncio.sleep(0.1)
        await self.__aexit__(None, None, None)
        raise ServerError(f"{self.name} did not answer {self._probe}")

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()


class Reference(Uvicorn):
    """``async with Reference(log_path) as ref:`` — bench/reference.py, the app every figure is divided by."""

    def __init__(self, log_path: Path) -> None:
        super().__init__("the reference app", "bench.reference:app", log_path, probe="/ping", status=200)


def _free_port() -> int:
    # Port 0 makes the kernel pick a free port; the short window before uvicorn binds it is acceptable here.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
