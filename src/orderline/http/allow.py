"""The ``Allow`` header of an OPTIONS answer: every method the path takes (RFC 9110 §10.2.1).

Litestar answers OPTIONS itself, but with the methods its route knew when the OPTIONS handler was made;
handlers registered later for the same path (GET after DELETE on ``/v1/orders/{id}``) were left out. The
app's route map knows them all, so the header is written from it as the answer leaves.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message
from litestar.types import Scope as AsgiScope


async def allow_every_method(message: Message, scope: AsgiScope) -> None:
    """before_send hook: an OPTIONS answer's ``Allow`` lists what its path takes, as the app routes it."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    routes = [route for route in scope["app"].routes if isinstance(route, HTTPRoute) and route.path_format == template]
    if routes:
        methods = set().union(*(route.methods for route in routes))
        MutableScopeHeaders.from_message(message)["allow"] = ", ".join(sorted(methods))
