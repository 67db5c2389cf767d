"""uvicorn's httptools protocol with a request deadline and a connection limit that sheds idle connections first.

Relies on these uvicorn 0.54 internals of ``HttpToolsProtocol`` (pin-sensitive; ADR 0016): the parser callbacks
``on_message_begin`` / ``on_message_complete``, ``on_response_complete`` (passed to each request cycle),
``connection_made`` / ``connection_lost``, ``_unsupported_upgrade_warning``, and the attributes ``transport``,
``loop``, ``connections`` (the server's set of open connections), ``cycle`` and ``pipeline``.
tests/e2e/test_server.py exercises each path.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orderline.server.log_budget import LogBudget

log = structlog.get_logger("orderline.server")

REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 24\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"request took too long.\r\n"
)


class ConnectionGuard:
    """What one server's connections share: the limits, and the connections waiting for a request, oldest first."""

    def __init__(self, request_timeout: float, max_connections: int, budget: LogBudget) -> None:
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self.waiting: dict[GuardedHttpToolsProtocol, None] = {}  # insertion order is the order they began waiting
        self._budget = budget

    def shed_for(self, newcomer: GuardedHttpToolsProtocol) -> None:
        """At the limit: close the connection that has waited longest for a request (the newcomer if no other).

        Those are the cheapest to lose — no work of theirs is running — and the attacker's silent sockets are
        all of that kind, so a flood of them pushes out its own oldest members while real requests, which
        complete at once, get through (health checks included).
        """
        victim = next(iter(self.waiting), newcomer)
        victim.close_waiting()
        held_back = self._budget.allow("connection limit")
        if held_back is not None:
            log.warning(
                "connection limit reached: closed the connection that waited longest for a request",
                max_connections=self.max_connections,
                closed_since_last_line=held_back + 1,
            )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Closes a connection that has not sent a complete request within the guard's ``request_timeout``.

    uvicorn's own keep-alive timer runs only between requests, and stops at the first byte: a client that
    opens a socket and sends nothing, or trickles its headers or body, holds it for ever. Here a deadline runs
    from the connection's start (or the end of the previous response) until the request is complete.
    """

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._receiving = False  # part of a request has arrived, not all of it

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_request()
        if len(self.connections) > self.guard.max_connections:
            self.guard.shed_for(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._receiving = True
        if self._deadline is None:  # a request pipelined behind one still running
            self._await_request()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._receiving = False
        self._stop_waiting()

    def on_response_complete(self) -> None:
        idle = not self.pipeline  # checked first: the parent starts the next pipelined request, if any
        super().on_response_complete()
        if idle and self._deadline is None and not self.transport.is_closing():
            self._await_request()  # even a byte a time must add up to a request by the deadline

    def _unsupported_upgrade_warning(self) -> None:
        """Answer an Upgrade request as plain HTTP, quietly: no route speaks WebSocket (``ws="none"``).

        uvicorn would log two warnings per such request, one telling to install what is installed.
        """

    def close_waiting(self) -> None:
        """Close this connection for taking too long (or for being the oldest to wait at the limit)."""
        self._stop_waiting()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
        if self._receiving and not answering:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()

    def _await_request(self) -> None:
        self._deadline = self.loop.call_later(self.guard.request_timeout, self.close_waiting)
        self.guard.waiting[self] = None

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.guard.waiting.pop(self, None)


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for one server: uvicorn builds each connection's protocol from a class, not an object."""

    class Guarded(GuardedHttpToolsProtocol):
        pass

    Guarded.guard = guard
    return Guarded
