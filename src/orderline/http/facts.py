"""A request's header facts: what the request path reads from its headers, found in one pass over them.

This is the one place the request path reads a request's headers (the front reads them first, http/front.py;
authentication takes the credential from here): a new per-request header is a field of ``RequestFacts`` and a
branch of the loop in ``facts_of``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.types import Scope as AsgiScope

from orderline.http.host import readable_host
from orderline.http.request_id import HEADER, chosen_request_id

FACTS_KEY = "facts"
REQUEST_ID = HEADER.encode()  # ASGI header names arrive lower-cased
_AUTHORIZATION = b"authorization"
_HOST = b"host"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the request path reads from a request's headers."""

    request_id: str
    authorization: str | None  # the raw Authorization header: the native API's credential (http/auth.py)
    host_readable: bool  # the first Host header, if any, is one a URL can be read from (http/host.py)


def facts_of(scope: AsgiScope) -> RequestFacts:
    """The request's facts, read on first use (the front reads them before anything else runs)."""
    state = scope.setdefault("state", {})
    found: RequestFacts | None = state.get(FACTS_KEY)
    if found is None:
        sent_id, authorization, host = b"", None, None
        for name, value in scope.get("headers", ()):  # ASGI header names arrive lower-cased
            if name == REQUEST_ID:
                sent_id = value  # the last one sent counts
            elif name == _AUTHORIZATION and authorization is None:
                authorization = value.decode("latin-1")  # the first one, as Headers.get gives it
            elif name == _HOST and host is None:
                host = value  # the first one, as Litestar's URL and router read it
        request_id = state.get("request_id") or chosen_request_id(sent_id)  # http/request_id.py may have chosen
        found = state[FACTS_KEY] = RequestFacts(request_id, authorization, readable_host(host))
        state["request_id"] = request_id
    return found
