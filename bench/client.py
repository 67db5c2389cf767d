"""A minimal HTTP/1.1 keep-alive client on asyncio streams, cheap enough to share two cores with a server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import NamedTuple

# Statuses that never carry a body (RFC 9110 §6.4.1), so a missing Content-Length means zero.
_BODYLESS = frozenset({204, 304})


class ProtocolError(Exception):
    """The server answered something this small client does not parse (chunked, no length)."""


class Response(NamedTuple):
    status: int
    body: bytes


def encode_request(
    method: str, path: str, *, body: bytes | None = None, token: str | None = None, authorization: str | None = None
) -> bytes:
    """The request's bytes, built once per request before the clock starts; ``token`` means a Bearer token."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token is not None:
        authorization = f"Bearer {token}"
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


class Connection:
    """One keep-alive connection; requests on it run one after another, reconnecting when it closes."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> Response:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status, length, closing = _parse_head(head)
        body = await self._reader.readexactly(length) if length else b""
        if closing:
            await self.close()
        return Response(status, body)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            # The peer may already be gone; a close that fails still leaves nothing to clean up.
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, body length and whether the server will close, from a response head."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise ProtocolError(f"chunked responses are not supported (status {status})")
    length = headers.get("content-length")
    if length is None and status not in _BODYLESS:
        raise ProtocolError(f"a {status} response without Content-Length")
    return status, int(length or 0), headers.get("connection", "").lower() == "close"
