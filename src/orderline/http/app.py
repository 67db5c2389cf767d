"""create_app(): the Litestar application, its error rendering, middleware and routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import structlog
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsPlugin
from litestar.response import Response

from orderline import __version__
from orderline.application.errors import ApplicationError
from orderline.application.use_cases import UseCases
from orderline.config import Settings, parse_dialects
from orderline.domain.errors import DomainError
from orderline.http.access import SECURITY_SCHEME
from orderline.http.api.admin import AdminController
from orderline.http.api.admin_orders import AdminOrderController
from orderline.http.api.admin_vouchers import AdminVoucherController
from orderline.http.api.bulk_cancel import BulkCancelController
from orderline.http.api.events import all_events, order_events
from orderline.http.api.home import home
from orderline.http.api.metrics import metrics_route
from orderline.http.api.order_callbacks import register_callback
from orderline.http.api.order_items import OrderItemController
from orderline.http.api.orders import OrderController
from orderline.http.api.payments import PaymentController, gateway_callback
from orderline.http.api.pets import PetController
from orderline.http.api.receipts import receipt
from orderline.http.api.sandbox import sandbox_middleware, sandbox_routes
from orderline.http.api.store import healthz, inventory, livez, readyz
from orderline.http.api.users import UserController, create_token
from orderline.http.api.webhooks import WebhookController
from orderline.http.api_docs import swagger_ui, swagger_ui_assets
from orderline.http.auth import READERS_KEY, bearer_credential
from orderline.http.dashboard import dashboard_router, template_config
from orderline.http.dependencies import PROVIDERS
from orderline.http.dialects import Dialect, load, owner_of_path, with_trailing_slashes
from orderline.http.document import finish_document, schema_router
from orderline.http.front import front_door
from orderline.http.gate import gate
from orderline.http.host import path_of
from orderline.http.hot_routes import HotRoutes
from orderline.http.metrics import Metrics, redis_circuit
from orderline.http.problems import http_to_problem, internal_error, refusal_to_problem, render
from orderline.http.rate_limit import RateLimits
from orderline.http.strict import read_strictly

log = structlog.get_logger("orderline.http")


def create_app(
    settings: Settings,
    open_use_cases: Callable[[], Awaitable[UseCases]],
    background: Callable[[UseCases], AbstractAsyncContextManager[object]] | None = None,
    *,
    hot_routes: bool = True,
) -> Litestar:
    """The app; its lifespan opens the use_cases (database and use cases) and closes them.

    ``background`` runs beside the app for its lifetime (``serve`` on SQLite: the worker). The app itself
    runs no background work, so that any number of web processes can serve one database. ``hot_routes=False``
    sends every request through Litestar's router: the tests compare the two ways (ADR 0042).
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        use_cases: UseCases = await open_use_cases()
        app.state.use_cases = use_cases
        try:
            async with background(use_cases) if background is not None else contextlib.nullcontext():
                yield
        finally:
            await use_cases.close()

    def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        log.error("unhandled error", method=request.method, path=path_of(request.scope), exc_info=exc)
        return internal_error(request, settings.problem_base_uri)

    base = settings.problem_base_uri
    dialects = load(parse_dialects(settings.dialects))

    def unrouted(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        # An unknown path or method never reaches a router: a dialect's mount still answers in its own body.
        dialect = owner_of_path(dialects, path_of(request.scope))
        if dialect is not None:
            return dialect.render_error(request, exc)
        return render(request, http_to_problem(exc, base))

    rate_limits = RateLimits(settings, unrouted=unrouted)
    metrics = Metrics(circuit=redis_circuit(rate_limits))
    problem_details = ProblemDetailsConfig(
        exception_handler=render,
        exception_to_problem_detail_map={
            DomainError: partial(refusal_to_problem, base_uri=base),
            ApplicationError: partial(refusal_to_problem, base_uri=base),
            HTTPException: partial(http_to_problem, base_uri=base),
        },
    )
    v1 = Router(
        path="/v1",
        route_handlers=[
            PetController,
            OrderController,
            BulkCancelController,
            OrderItemController,
            PaymentController,
            gateway_callback,
            receipt,
            UserController,
            create_token,
            AdminController,
            AdminOrderController,
            AdminVoucherController,
            WebhookController,
            inventory,
            healthz,
            readyz,
            livez,
            order_events,
            all_events,
            register_callback,
        ],
    )
    app = Litestar(
        route_handlers=[
            home,
            v1,
            *(dialect.router() for dialect in dialects),
            swagger_ui_assets(),
            metrics_route(metrics, settings.metrics_token),
            dashboard_router(),  # /admin/: the staff's dashboard (issue 12)
            *sandbox_routes(settings),  # /v1/sandbox: only with ORDERLINE_SANDBOX (ADR 0041)
        ],
        template_config=template_config(),
        lifespan=[lifespan, rate_limits.lifespan],
        dependencies=PROVIDERS,
        plugins=[ProblemDetailsPlugin(problem_details)],
        exception_handlers={500: on_unexpected, NotFoundException: unrouted, MethodNotAllowedException: unrouted},
        # One middleware after routing; the request id, the answer's headers and the observation are the
        # front's, around the whole handler (ADR 0039).
        middleware=[gate(rate_limits), *sandbox_middleware(settings)],  # the sandbox's: after the gate (ADR 0041)
        before_request=read_strictly,
        openapi_config=OpenAPIConfig(
            title="orderline",
            version=__version__,
            description="Order lifecycle service following the Modern Pet Store API's Store section.",
            path="/schema",
            openapi_router=schema_router(),
            render_plugins=[JsonRenderPlugin(), swagger_ui()],
            components=Components(
                security_schemes={
                    SECURITY_SCHEME: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT from /v1/auth/tokens, an API key (olk_...) or an order token (olo_...)",
                    ),
                    **{name: scheme for dialect in dialects for name, scheme in dialect.security_schemes.items()},
                }
            ),
        ),
        state=State(
            {"problem_base_uri": base, "rate_limits": rate_limits, READERS_KEY: partial(_credential_reader, dialects)}
        ),
        logging_config=None,
    )
    # The sandbox's middleware runs after the gate, which the hot routes do not run: with it, Litestar routes all.
    hot = (
        [HotRoutes(app, rate_limits), *(d.fast_routes(app, rate_limits) for d in dialects if d.fast_routes is not None)]
        if hot_routes and not settings.sandbox
        else []
    )
    app.asgi_handler = front_door(app.asgi_handler, metrics, rate_limits, unrouted, hot)
    finish_document(app)
    with_trailing_slashes(app.openapi_schema, dialects)
    return app


def _credential_reader(dialects: list[Dialect], path: str) -> Any:
    dialect = owner_of_path(dialects, path)
    return bearer_credential if dialect is None else dialect.credential


def end_streams(app: Litestar) -> None:
    """Tell live event streams the server is shutting down: they end cleanly and their clients resume elsewhere."""
    use_cases: UseCases | None = getattr(app.state, "use_cases", None)
    if use_cases is not None:
        use_cases.event_stream.stop()
