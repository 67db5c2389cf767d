"""X-Request-Id: taken from the client when sane, made up otherwise, echoed on every response and logged.

The front (http/front.py) reads it with the request's other header facts and writes it on the answer.
"""

from __future__ import annotations

import re

from litestar.types import Scope as AsgiScope
from uuid_utils.compat import uuid7

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()  # ASGI header names arrive lower-cased
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


NATIVE = "native"  # the API a request to /v1 comes through, as its audit entries record it


def chosen_request_id(sent: bytes) -> str:
    """The client's id if sane (``sent``: the header's raw value, empty without one), else a new UUIDv7."""
    text = sent.decode("latin-1")
    return text if _SANE.fullmatch(text) else str(uuid7())


def request_id_of(scope: AsgiScope) -> str:
    """The request's id, fixed on first use: the client's if sane, else a new UUIDv7."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        sent = b""
        for name, value in scope.get("headers", ()):  # no dict of every header: the last one sent counts
            if name == _HEADER_BYTES:
                sent = value
        state["request_id"] = chosen_request_id(sent)
    request_id: str = state["request_id"]
    return request_id
