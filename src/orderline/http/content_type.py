"""415 for a request body that is not JSON, before anything tries to parse it."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    if request.method not in _BODY_METHODS:
        return
    content_type = request.headers.get("content-type")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if (content_type is not None or has_body) and not _is_json(content_type or ""):
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json, not {content_type or 'an untyped body'}",
        )
