"""Dialects: other order APIs served from the same use cases, each under its own mount (ADR 0021).

A dialect parses its wire format, calls the use cases the native API calls, and renders the outcome its
own way: its own credential header, its own bodies, its own error shape. It holds no business rule.
Each lives in a package of its own (``http/dialects/<name>/``) that exports ``DIALECT``; they never
import one another.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.datastructures import Headers
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPI, SecurityScheme
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application import audit
from orderline.application.errors import ApplicationError
from orderline.domain.errors import DomainError
from orderline.http.auth import bearer_credential
from orderline.http.front import FastRoutes
from orderline.http.rate_limit import RateLimits
from orderline.http.request_id import request_id_of

ErrorRenderer = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


@dataclass(frozen=True, slots=True)
class Dialect:
    """One other API: where it is mounted, its routes, and how it reads credentials and writes errors."""

    name: str  # as ORDERLINE_DIALECTS names it
    prefix: str  # its mount point, e.g. "/sfox/v1"
    tag: str  # its operations' tag in the OpenAPI document
    route_handlers: Sequence[ControllerRouterHandler]
    # Every refusal and failure under the prefix, in the dialect's own body: our errors, Litestar's own
    # (unknown route, wrong method, invalid body), a 429, and an unexpected exception (a bare 500).
    render_error: ErrorRenderer
    # The credential its clients send, from the request's headers; None when they send none.
    credential: Callable[[Headers], str | None] = field(default=bearer_credential)
    # Security schemes of its own that its operations name, added to the document's components (by name).
    security_schemes: Mapping[str, SecurityScheme] = field(default_factory=dict)
    # Its original's paths end in "/" (Django's): the document shows them so. Litestar matches a path with or
    # without it, and so serves both.
    trailing_slash: bool = False
    # Routes of its own answered before Litestar's router (http/front.py), built from the app at start-up; None:
    # Litestar routes every request of the dialect (ADR 0048).
    fast_routes: Callable[[Litestar, RateLimits], FastRoutes] | None = None
    # A header of its own that echoes the request id on every response (Shoplazza's Request-Id). Its handlers and
    # error renderer write it; the router adds it to the one answer neither writes, Litestar's own to OPTIONS.
    request_id_header: str | None = None

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def router(self) -> Router:
        # Litestar looks an exception's handler up by status code, then along the class's MRO, across every
        # layer at once: the dialect takes each class the app maps, so that its bodies win on its paths.
        handled: tuple[type[Exception] | int, ...] = (
            Exception, HTTPException, ProblemDetailsException, DomainError, ApplicationError, 500,
        )  # fmt: skip
        return Router(
            path=self.prefix,
            route_handlers=list(self.route_handlers),
            middleware=[self._through_this_api],
            exception_handlers=dict.fromkeys(handled, self.render_error),
            tags=[self.tag],
        )

    def _through_this_api(self, app: ASGIApp) -> ASGIApp:
        """Name this dialect as the API its requests' audit entries came through."""

        async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
            token = audit.api.set(self.name)
            try:
                options = self.request_id_header is not None and scope.get("method") == "OPTIONS"
                await app(scope, receive, self._with_request_id(scope, send) if options else send)
            finally:
                audit.api.reset(token)

        return middleware

    def _with_request_id(self, scope: AsgiScope, send: Send) -> Send:
        assert self.request_id_header is not None
        header = (self.request_id_header.lower().encode(), request_id_of(scope).encode())

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if all(name.lower() != header[0] for name, _ in headers):
                    message["headers"] = [*headers, header]
            await send(message)

        return sending


def load(names: Sequence[str]) -> list[Dialect]:
    """The dialects ``names`` asks for (ORDERLINE_DIALECTS), in that order."""
    dialects = []
    for name in names:
        dialect = importlib.import_module(f"{__name__}.{name}").DIALECT
        if not isinstance(dialect, Dialect):
            raise TypeError(f"{__name__}.{name}.DIALECT is not a Dialect")  # a bug, never an operator's doing
        dialects.append(dialect)
    return dialects


def with_trailing_slashes(document: OpenAPI, dialects: Sequence[Dialect]) -> None:
    """The document's paths of each dialect whose original ends its paths in "/", as its clients write them."""
    prefixes = tuple(dialect.prefix + "/" for dialect in dialects if dialect.trailing_slash)
    if not prefixes or document.paths is None:
        return
    document.paths = {
        (path + "/" if path.startswith(prefixes) and not path.endswith("/") else path): item
        for path, item in document.paths.items()
    }


def owner_of_path(dialects: Sequence[Dialect], path: str) -> Dialect | None:
    """The dialect mounted at ``path``, if any."""
    return next((dialect for dialect in dialects if dialect.owns(path)), None)
