"""Several web processes on one listening socket: start them, replace one that dies, drain them all on SIGTERM.

The parent binds the socket and does nothing else: every child accepts on the same socket (the kernel hands
each connection to one of them) and serves it under the same protections as a single `serve` (server/runner.py).
What must happen once per service (migrations, the demo catalogue, key files) the caller does before
``supervise``; background work never runs in a web process when there are several (ADR 0035).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog

log = structlog.get_logger("orderline.server")

# A child that could not start (its app's startup failed: the database, the keys) would fail the same way again.
STARTUP_FAILURE = 3
# A child that dies is replaced, unless children died this many times within RESTART_WINDOW seconds: then
# something is wrong with every process (memory, the database), and restarting in a loop would hide it.
RESTARTS_ALLOWED = 5
RESTART_WINDOW = 60.0
# After SIGTERM the children drain for the grace period; the parent waits this much longer before SIGKILL.
STOP_MARGIN = 5.0
# How often a child checks that its parent is alive (a parent killed with SIGKILL cannot tell it).
ORPHAN_CHECK_SECONDS = 1.0
# Exit codes of a child that stopped because it was told to: drained and exited, or uvicorn re-raised the signal.
_STOPPED = frozenset({0, -signal.SIGTERM, -signal.SIGINT})

Child = Callable[[socket.socket], bool]  # serves on the socket until SIGTERM; False if it never started


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The listening socket the children share (uvicorn's backlog); IPv6 when ``host`` is an IPv6 address."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def run_child(serve: Child, sock: socket.socket, parent: int) -> None:
    """A child's whole life: serve until told to stop, or until its parent is gone."""
    threading.Thread(target=_stop_when_orphaned, args=(parent,), name="orphan-watch", daemon=True).start()
    if not serve(sock):
        raise SystemExit(STARTUP_FAILURE)


def _stop_when_orphaned(parent: int) -> None:
    # A child outliving its parent would keep serving with no one to stop it: it drains and exits instead.
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """``processes`` children running ``serve`` on ``sock``, kept at that number until SIGTERM or SIGINT."""

    def __init__(self, serve: Child, sock: socket.socket, processes: int, grace: float) -> None:
        self._serve = serve
        self._sock = sock
        self._processes = processes
        self._grace = grace
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop or threads
        self._children: list[BaseProcess] = []
        self._deaths: deque[float] = deque()
        self._stop = threading.Event()

    def run(self) -> int:
        """Serve until told to stop, then drain; the exit status: 0 when every child stopped as it was told."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self._serve_until_stopped()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _serve_until_stopped(self) -> int:
        host, port = self._sock.getsockname()[:2]
        self._children = [self._start() for _ in range(self._processes)]
        log.info(
            "web processes started",
            address=f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}",
            processes=self._processes,
            pids=[child.pid for child in self._children],
        )
        healthy = self._watch()
        return self._drain() if healthy else max(1, self._drain())

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self) -> BaseProcess:
        child = self._context.Process(
            target=run_child, args=(self._serve, self._sock, os.getpid()), name="orderline-web", daemon=False
        )
        child.start()
        return child

    def _watch(self) -> bool:
        """Replace children that die until told to stop (True), or until that is no use (False)."""
        while not self._stop.is_set():
            wait([child.sentinel for child in self._children], timeout=0.2)
            for index, child in enumerate(self._children):
                if child.exitcode is None or self._stop.is_set():
                    continue
                if not self._may_replace(child):
                    return False
                self._children[index] = replacement = self._start()
                log.info("web process replaced", died=child.pid, pid=replacement.pid)
        return True

    def _may_replace(self, child: BaseProcess) -> bool:
        log.error("web process died", pid=child.pid, exit_code=child.exitcode)
        if child.exitcode == STARTUP_FAILURE:
            log.error("a web process could not start: stopping them all", pid=child.pid)
            return False
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - RESTART_WINDOW:
            self._deaths.popleft()
        if len(self._deaths) > RESTARTS_ALLOWED:
            log.error(
                "web processes keep dying: stopping them all",
                deaths=len(self._deaths),
                within_seconds=RESTART_WINDOW,
            )
            return False
        return True

    def _drain(self) -> int:
        """SIGTERM every child, wait for them to drain, SIGKILL what outlives the grace; 1 if any had to be."""
        running = [child for child in self._children if child.exitcode is None]
        log.info("stopping web processes", pids=[child.pid for child in running], grace_seconds=self._grace)
        for child in running:
            if child.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # it may have ended since
                    os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._grace + STOP_MARGIN
        for child in running:
            child.join(max(0.0, deadline - time.monotonic()))
        status = 0
        for child in self._children:
            if child.exitcode is None:
                log.error("web process did not stop within the grace period: killed", pid=child.pid)
                child.kill()
                child.join()
                status = 1
            elif child in running and child.exitcode not in _STOPPED:
                log.error("web process stopped with an error", pid=child.pid, exit_code=child.exitcode)
                status = 1
        self._sock.close()
        log.info("web processes stopped", exit_code=status)
        return status
