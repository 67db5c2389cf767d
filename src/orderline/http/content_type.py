"""What a request may carry, checked before anything parses it: a JSON body (else 415) no larger than the
route takes (else 413), well-formed JSON (else 400), and no NUL characters anywhere (else 422: PostgreSQL
cannot store them in text)."""

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


async def require_json_body(request: Request[Any, Any, Any]) -> bytes:
    """The request's body, once it is known to be JSON that can be stored; empty when there is none."""
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
    if body:
        _ensure_well_formed(body)
    return body


def _ensure_well_formed(body: bytes) -> None:
    # msgspec reports most malformed JSON itself; bytes that are not UTF-8 and nesting deep
    # enough to exhaust the stack would otherwise escape as 500s.
    try:
        text = body.decode("utf-8")
        msgspec.json.decode(body)
    except (UnicodeDecodeError, RecursionError):
        raise HTTPException(status_code=400, detail="the body is not UTF-8 JSON of a sane depth") from None
    except msgspec.DecodeError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    if "\x00" in text or "\\u0000" in text:
        raise _nul("body")


def _nul(where: str) -> ValidationException:
    return ValidationException(
        detail="NUL characters are not allowed",
        extra=[{"key": where, "message": "NUL characters (U+0000) are not allowed in text", "code": "invalid"}],
    )
