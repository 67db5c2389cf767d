"""A TCP proxy that counts PostgreSQL round trips: the messages after which a client waits for the server.

It reads the frontend side of the wire protocol and counts each Sync (the end of an extended-protocol
exchange: a prepare, or a bind and execute) and each simple Query (BEGIN, COMMIT, the pool's reset).
Those are the points where the client stops and waits, so their number is the number of round trips,
whatever the driver does underneath: statement preparation, transactions and pool resets all show.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

# Untyped messages a client may send before its startup message: SSLRequest and GSSENCRequest.
_NEGOTIATIONS = {80877103, 80877104}
_WAITS = {ord("S"), ord("Q")}  # Sync, Query


class FrontendCounter:
    """Counts the waits in one connection's client-to-server byte stream, fed in chunks of any size."""

    def __init__(self) -> None:
        self.waits = 0
        self.statements: list[str] = []
        self._buffer = b""
        self._started = False
        self._prepared: dict[bytes, str] = {}

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if not self._started:
                if len(self._buffer) < 8:
                    return
                (length,) = struct.unpack("!I", self._buffer[:4])
                if len(self._buffer) < length:
                    return
                (code,) = struct.unpack("!I", self._buffer[4:8])
                self._buffer = self._buffer[length:]
                self._started = code not in _NEGOTIATIONS
                continue
            if len(self._buffer) < 5:
                return
            kind = self._buffer[0]
            (length,) = struct.unpack("!I", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return
            body, self._buffer = self._buffer[5 : 1 + length], self._buffer[1 + length :]
            if kind in _WAITS:
                self.waits += 1
            self._note(kind, body)

    def _note(self, kind: int, body: bytes) -> None:
        """Keep the text of each statement run: a simple Query's, or a Bind's (by its prepared statement)."""
        if kind == ord("Q"):
            self.statements.append(body.split(b"\0", 1)[0].decode(errors="replace"))
        elif kind == ord("P"):  # Parse: statement name, NUL, query, NUL, ...
            name, query = body.split(b"\0", 2)[:2]
            self._prepared[name] = query.decode(errors="replace")
        elif kind == ord("B"):  # Bind: portal name, NUL, statement name, NUL, ...
            name = body.split(b"\0", 2)[1]
            self.statements.append(" ".join(self._prepared.get(name, "?").split()))


class CountingProxy:
    """Forwards every byte both ways; ``round_trips`` is the total of waits over all connections so far."""

    def __init__(self, upstream_url: str) -> None:
        self._upstream = urlsplit(upstream_url)
        self._server: asyncio.Server | None = None
        self._counters: list[FrontendCounter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        user = f"{self._upstream.username}@" if self._upstream.username else ""
        return urlunsplit(self._upstream._replace(netloc=f"{user}127.0.0.1:{port}"))

    @property
    def round_trips(self) -> int:
        return sum(counter.waits for counter in self._counters)

    @property
    def statements(self) -> list[str]:
        """The text of each statement run, in no particular order across connections."""
        return [text for counter in self._counters for text in counter.statements]

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        host, port = self._upstream.hostname or "127.0.0.1", self._upstream.port or 5432
        server_reader, server_writer = await asyncio.open_connection(host, port)
        self._writers |= {client_writer, server_writer}
        counter = FrontendCounter()
        self._counters.append(counter)
        for task in (
            asyncio.create_task(self._pump(client_reader, server_writer, counter)),
            asyncio.create_task(self._pump(server_reader, client_writer, None)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counter: FrontendCounter | None
    ) -> None:
        try:
            while data := await reader.read(65536):
                if counter is not None:
                    counter.feed(data)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass  # either side went away: close the other
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
