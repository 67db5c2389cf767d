"""The Host header a request may carry (one a URL can be read from), its refusal, and the path read without it.

Litestar builds a request's URL from its first Host header, and checks no more of it than its characters: a port
that is not a number from 0 to 65535 (``a:b``, ``localhost:99999``, ``a@b:c``) made every reading of the URL raise,
rendering a refusal included, so such a request was a 500 with an empty body. The front (http/front.py) refuses
any Host this module does not take, before anything reads it, in the body of the path's owner.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from litestar._asgi.utils import is_valid_host  # pinned Litestar (ADR 0042): its router's own check
from litestar.exceptions import ClientException
from litestar.types import Scope as AsgiScope

INVALID_HOST = "the Host header is not a host and a port"


class InvalidHost(ClientException):
    """A 400: the request's Host header names no host a URL can be made of."""

    def __init__(self) -> None:
        super().__init__(detail=INVALID_HOST)


@lru_cache(maxsize=64)  # a server is asked by a few names: 80 ns a request, not 1,300
def readable_host(host: bytes | None) -> bool:
    """Whether a request's URL can be read from this Host header's value (None: no Host header, read from the
    server's address): characters Litestar's router takes, and a port, if any, from 0 to 65535."""
    if host is None:
        return True
    if not is_valid_host(host):
        return False
    try:
        parts = urlsplit("//" + host.decode("latin-1"))
        parts.port  # noqa: B018 - reading it is the check: it raises for a port that is no number in range
    except ValueError:
        return False
    return True


def path_of(scope: AsgiScope) -> str:
    """The request's path as its URL has it, read without its Host (an error's answer may not need one)."""
    path: str = scope.get("root_path", "") + scope["path"]
    return path
