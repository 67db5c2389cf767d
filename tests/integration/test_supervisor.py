"""The supervisor of several web processes, with real child processes that misbehave on purpose.

A child that cannot start stops the service at once (exit 1, no restart loop); children that keep dying are
replaced only so often; a child that outlives the grace period after SIGTERM is killed and the exit is 1.
The children here are small functions of this module, started as `serve --workers` starts its own (spawn).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderline.server import supervisor
from orderline.server.supervisor import Supervisor, bind

READY_FOLDER = "SUPERVISOR_TEST_READY"


def never_starts(_sock: socket.socket) -> bool:
    return False


def crashes(_sock: socket.socket) -> bool:
    raise SystemExit(2)


def ignores_sigterm(_sock: socket.socket) -> bool:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _ready()
    time.sleep(120)
    return True


def serves_until_sigterm(_sock: socket.socket) -> bool:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    _ready()
    stop.wait(120)
    return True


def _ready() -> None:
    Path(os.environ[READY_FOLDER], str(os.getpid())).touch()


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    listening = bind("127.0.0.1", 0)
    yield listening
    listening.close()


@pytest.fixture
def ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where each child says it is ready (the children inherit the environment)."""
    monkeypatch.setenv(READY_FOLDER, str(tmp_path))
    return tmp_path


def sigterm_to_this_process_once_ready(ready: Path, children: int) -> None:
    def wait_then_signal() -> None:
        deadline = time.monotonic() + 60
        while len(list(ready.iterdir())) < children and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait_then_signal, daemon=True).start()


def test_a_web_process_that_cannot_start_stops_the_service_without_a_restart(sock: socket.socket) -> None:
    began = time.monotonic()

    status = Supervisor(never_starts, sock, processes=2, grace=5).run()

    assert status == 1
    assert time.monotonic() - began < 30


def test_web_processes_that_keep_dying_are_replaced_only_so_often(
    sock: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RESTARTS_ALLOWED", 2)
    started: list[int] = []
    original = Supervisor._start

    def counted(self: Supervisor) -> object:
        child = original(self)
        started.append(child.pid or 0)
        return child

    monkeypatch.setattr(Supervisor, "_start", counted)

    status = Supervisor(crashes, sock, processes=1, grace=5).run()

    assert status == 1
    assert len(started) == 3  # the first, and two replacements; the third death stops the service


def test_sigterm_stops_every_web_process_and_the_exit_is_clean(sock: socket.socket, ready: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    sigterm_to_this_process_once_ready(ready, children=2)

    status = Supervisor(serves_until_sigterm, sock, processes=2, grace=5).run()

    assert status == 0
    assert signal.getsignal(signal.SIGTERM) is before  # the parent's own handler is back


def test_a_web_process_still_running_after_the_grace_period_is_killed_and_the_exit_says_so(
    sock: socket.socket, ready: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "STOP_MARGIN", 0.5)
    sigterm_to_this_process_once_ready(ready, children=1)

    status = Supervisor(ignores_sigterm, sock, processes=1, grace=1).run()

    assert status == 1
