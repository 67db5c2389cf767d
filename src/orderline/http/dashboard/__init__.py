"""The dashboard at /admin/: server-rendered pages for the shop's staff (issue 12, ADR 0037).

Its pages are Jinja2 templates; its few lines of JavaScript and its stylesheet are files of this package,
served from /admin/static (no CDN, no build step). Its routes call the same use cases as the API.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from orderline.application.errors import ApplicationError
from orderline.domain.errors import DomainError
from orderline.http.access import ANYONE
from orderline.http.dashboard.audit import audit_log
from orderline.http.dashboard.catalogue import CataloguePages
from orderline.http.dashboard.customers import CustomerPages
from orderline.http.dashboard.formatting import FILTERS
from orderline.http.dashboard.live import live_events
from orderline.http.dashboard.orders import OrderPages
from orderline.http.dashboard.overview import overview
from orderline.http.dashboard.pages import refused
from orderline.http.dashboard.session import PREFIX, STAFF_SESSION, check_csrf, in_tenant_time, staff_of
from orderline.http.dashboard.signing_in import sign_in, sign_in_page, sign_out
from orderline.http.dashboard.webhooks import WebhookPages

_HERE = Path(str(files("orderline.http") / "dashboard"))
_ONE_HOUR = 3600
# Every route of the dashboard decides who may call it as the API's do (tests/contract/test_routes.py):
# the pages need a staff session, which the ``staff`` dependency resolves from the cookie. It is a decision of
# its own, not the API's "admin" scope: the API's access middleware enforces scopes on the bearer credential,
# which a browser's page request never carries.
_STAFF = {"auth": STAFF_SESSION}
_PUBLIC = {"auth": ANYONE}


def dashboard_router() -> Router:
    """The dashboard's routes, its refusals rendered as pages, its forms checked for their CSRF token."""
    static = create_static_files_router(
        path="/static",
        directories=[_HERE / "static"],
        name="dashboard-static",
        cache_control=CacheControlHeader(public=True, max_age=_ONE_HOUR),
        include_in_schema=False,
        opt=_PUBLIC,
    )
    return Router(
        path=PREFIX,
        route_handlers=[
            overview,
            sign_in_page,
            sign_in,
            sign_out,
            OrderPages,
            CataloguePages,
            CustomerPages,
            WebhookPages,
            audit_log,
            live_events,
            static,
        ],
        dependencies={"staff": Provide(staff_of)},
        middleware=[in_tenant_time],  # a sandbox tenant's pages in its time; nothing outside the sandbox
        before_request=check_csrf,
        exception_handlers={ApplicationError: refused, DomainError: refused, HTTPException: refused},
        include_in_schema=False,
        opt=_STAFF,
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The app's templates: the dashboard's, escaped, and failing loudly on a name a page does not pass."""
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(FILTERS)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))
