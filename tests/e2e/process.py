"""Real `orderline` processes for end-to-end tests: run a command, or serve on a free port until the test ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ORDERLINE = [sys.executable, "-m", "orderline"]
# Runs orderline with a given limit on open files, as a small container would start it: setrlimit, then exec.
_WITH_OPEN_FILES = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[2]))); "
    "os.execv(sys.executable, [sys.executable, '-m', 'orderline', *sys.argv[3:]])"
)
READY_WITHIN = 60.0  # a deadline, not a measurement: a busy CI machine starting several servers at once is slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORDERLINE, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


@dataclass(frozen=True)
class Server:
    """A running `orderline serve`; its stdout and stderr go to a file, so a chatty server never blocks on a pipe."""

    process: subprocess.Popen[bytes]
    port: int
    output_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def output_bytes(self) -> int:
        return self.output_path.stat().st_size

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/v1/livez", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not become ready in {READY_WITHIN:.0f} s:\n{self.output()}")

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait; the exit status (negative: the signal that ended it)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def started(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    open_files: tuple[int, int] | None = None,
) -> Iterator[Server]:
    """`orderline serve` on a free port, starting (not yet ready) when the block starts, ended when it ends.

    ``open_files``: the (soft, hard) limit on open files it starts with.
    """
    port = free_port()
    output_path = cwd / f"serve-{port}.log"
    command = ORDERLINE
    if open_files is not None:
        command = [sys.executable, "-c", _WITH_OPEN_FILES, *map(str, open_files)]
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port), *args],
            cwd=cwd,
            env=os.environ | (env or {}),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Server(process, port, output_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serving(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    open_files: tuple[int, int] | None = None,
) -> Iterator[Server]:
    """`orderline serve` on a free port, ready (its livez answers) when the block starts, ended when it ends."""
    with started(*args, cwd=cwd, env=env, open_files=open_files) as server:
        server.wait_until_ready()
        yield server


@dataclass(frozen=True)
class WorkerProcess:
    """A running `orderline worker`; its output goes to a file."""

    process: subprocess.Popen[bytes]
    output_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def wait_until_started(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while "worker started" not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.output()}")
            assert time.monotonic() < deadline, f"worker did not start in {READY_WITHIN:.0f} s:\n{self.output()}"
            time.sleep(0.05)


@contextmanager
def working(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Iterator[WorkerProcess]:
    """`orderline worker` running until the block ends (SIGTERM then, SIGKILL if it does not stop in 60 s)."""
    output_path = cwd / f"worker-{time.monotonic_ns()}.log"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [*ORDERLINE, "worker", *args],
            cwd=cwd,
            env=os.environ | (env or {}),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield WorkerProcess(process, output_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
