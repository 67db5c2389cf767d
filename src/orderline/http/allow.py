"""The ``Allow`` header of an OPTIONS answer: every method the path takes (RFC 9110 §10.2.1).

Litestar answers OPTIONS itself, but with the methods its route knew when the OPTIONS handler was made;
handlers registered later for the same path (GET after DELETE on ``/v1/orders/{id}``) were left out. The
app's route map knows them all, so the front (http/front.py) writes the header from it as the answer leaves.
"""

from __future__ import annotations

from litestar.routes import HTTPRoute
from litestar.types import Scope as AsgiScope


def allowed_methods(scope: AsgiScope) -> str | None:
    """What an OPTIONS answer's ``Allow`` says for its path, as the app routes it; None for a path no route has."""
    template = scope.get("path_template")
    routes = [route for route in scope["app"].routes if isinstance(route, HTTPRoute) and route.path_format == template]
    if not routes:
        return None
    methods = set().union(*(route.methods for route in routes))
    return ", ".join(sorted(methods))
