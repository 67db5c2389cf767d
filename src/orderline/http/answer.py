"""A JSON answer sent as it is: the response the hot routes return, without Litestar's ASGIResponse in between.

Litestar turns a ``Response`` into an ``ASGIResponse`` per request: a header structure that is searched on every
``setdefault``, the body rendered, the headers encoded again when the answer starts. For the plain case —
JSON, a status with a body, headers that are plain strings, no cookies or background task —
``JsonAnswer`` sends the same two messages (the same body, from the same encoder, and the same headers in the
same order: the route's own, then Content-Type and Content-Length) from headers encoded once; the route's type
encoders serialize as they would in Litestar's way (ADR 0042: before, their presence sent every answer that way,
and every route has some — Litestar's pydantic plugin registers them). Anything else
goes Litestar's way. A subclass of ``Response``, so what reads a response (idempotency keeps its content and
headers) reads it alike. ADR 0039.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from litestar import Request
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.response import Response
from litestar.serialization import encode_json, get_serializer
from litestar.types import ASGIApp, Receive, Send, TypeEncodersMap
from litestar.types import Scope as AsgiScope

T = TypeVar("T")
_WITH_BODY = frozenset({200, 201, 202})
_JSON = MediaType.JSON.value


class JsonAnswer(Response[T]):
    # Typed as returning ASGIResponse, but Litestar only calls what it returns (its generic handler returns any
    # ASGI app), and building an ASGIResponse is the cost this class avoids.
    def to_asgi_response(  # type: ignore[override]
        self,
        app: Any,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIApp:
        status = self.status_code or status_code or 200
        plain = (
            status in _WITH_BODY
            and (self.media_type or media_type or _JSON) == _JSON
            and not (self.background or background or self.cookies or cookies or encoded_headers or headers)
            and not is_head_response
            and all(isinstance(value, str) for value in self.headers.values())
        )
        if not plain:
            return super().to_asgi_response(
                app, request, background=background, cookies=cookies, encoded_headers=encoded_headers,
                headers=headers, is_head_response=is_head_response, media_type=media_type, status_code=status_code,
                type_encoders=type_encoders,
            )  # fmt: skip
        # The route's type encoders (Litestar's pydantic plugin gives every route some) with the response's own on
        # top, as Response.to_asgi_response merges them: the same serializer, so the same bytes.
        encoders = {**type_encoders, **(self.response_type_encoders or {})} if type_encoders else None
        body = encode_json(self.content, get_serializer(encoders or self.response_type_encoders))
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        raw += [(b"content-type", _JSON.encode()), (b"content-length", str(len(body)).encode())]
        return _Sent(status, raw, body)


class _Sent:
    __slots__ = ("_body", "_headers", "_status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self._status, self._headers, self._body = status, headers, body

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
        await send({"type": "http.response.body", "body": self._body, "more_body": False})
