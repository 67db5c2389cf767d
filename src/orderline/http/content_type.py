"""What a request may carry: a JSON body (else 415) no larger than the route takes (else 413), checked before
anything parses it; well-formed UTF-8 JSON (else 400) and no NUL characters anywhere (else 422: PostgreSQL cannot
store them in text), checked by whoever decodes it (http/strict.py), once."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def json_body(request: Request[Any, Any, Any]) -> bytes:
    """The request's body, once it is known to be sent as JSON and small enough; empty when there is none. Not
    yet parsed: the caller decodes it, once (http/strict.py)."""
    if b"%00" in request.scope.get("query_string", b""):
        raise _nul("query")
    if request.method not in BODY_METHODS:
        return b""
    content_type = request.headers.get("content-type")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if (content_type is not None or has_body) and not _is_json(content_type or ""):
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json, not {content_type or 'an untyped body'}",
        )
    try:
        body = await request.body()  # read once here; Litestar parses the cached copy afterwards
    except RequestEntityTooLarge:
        limit = request.route_handler.resolve_request_max_body_size()
        raise HTTPException(status_code=413, detail=f"send a body of at most {limit} bytes") from None
    return body


def well_formed(body: bytes) -> None:
    """A 400 unless ``body`` is UTF-8 JSON of a sane depth, then a 422 if it holds a NUL character: the body
    decoded untyped, where no type reads it or to say what a typed reading left open (http/strict.py)."""
    # msgspec reports most malformed JSON itself; bytes that are not UTF-8 and nesting deep
    # enough to exhaust the stack would otherwise escape as 500s.
    try:
        body.decode("utf-8")
        msgspec.json.decode(body)
    except (UnicodeDecodeError, RecursionError, msgspec.DecodeError) as exc:
        raise malformed(exc) from None
    if b"\x00" in body or b"\\u0000" in body:  # in UTF-8, NUL and its JSON escape are ASCII bytes of their own
        raise _nul("body")


def malformed(exc: Exception) -> HTTPException:
    """The 400 of a body msgspec could not decode (``exc``): its reason, or not UTF-8, or too deep."""
    if isinstance(exc, msgspec.DecodeError):
        return HTTPException(status_code=400, detail=str(exc))
    return HTTPException(status_code=400, detail="the body is not UTF-8 JSON of a sane depth")


def _nul(where: str) -> ValidationException:
    return ValidationException(
        detail="NUL characters are not allowed",
        extra=[{"key": where, "message": "NUL characters (U+0000) are not allowed in text", "code": "invalid"}],
    )
