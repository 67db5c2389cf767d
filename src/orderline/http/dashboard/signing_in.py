"""Signing in to the dashboard and out of it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.application.principal import PUBLIC, parse_tenant
from orderline.application.use_cases import UseCases
from orderline.http.access import ANYONE
from orderline.http.dashboard.pages import problem_of
from orderline.http.dashboard.session import (
    PREFIX,
    SIGN_IN_COOKIE,
    csrf_token,
    ended,
    session_cookie,
    session_of,
    sign_in_cookie,
)
from orderline.http.dependencies import Injected

SIGN_IN = "/sign-in"
TENANT_FIELD = "tenant"


def _form(request: Request[Any, Any, Any], status_code: int = 200, **context: Any) -> Template:
    """The sign-in form with a fresh cookie its token is bound to."""
    cookie = sign_in_cookie(request)
    return Template(
        template_name="sign_in.html",
        media_type=MediaType.HTML,
        context={
            "csrf": csrf_token(cookie.value or ""),
            "next": _next(request),
            "signed_in": False,
            "path": request.url.path,
            "error": None,
            "tenant": "",
            **context,
        },
        status_code=status_code,
        cookies=[cookie],
    )


def _next(request: Request[Any, Any, Any]) -> str:
    """Where to go once signed in: a page of the dashboard, never another site."""
    wanted = request.query_params.get("next", "")
    return wanted if wanted.startswith(f"{PREFIX}/") and not wanted.startswith(f"{PREFIX}//") else f"{PREFIX}/"


@get(SIGN_IN, name="sign-in", opt={"auth": ANYONE})
async def sign_in_page(request: Request[Any, Any, Any]) -> Template:
    # A link may fill the tenant in (`/admin/sign-in?tenant=…`): an operator of several shops keeps one per shop.
    return _form(request, tenant=request.query_params.get("tenant", "")[:64])


@post(SIGN_IN, status_code=303, opt={"auth": ANYONE})
async def sign_in(request: Request[Any, Any, Any], use_cases: Injected[UseCases]) -> Response[Any]:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    named = str(form.get(TENANT_FIELD, "")).strip()
    try:
        # The form's field, not X-Tenant-ID: a browser sends no header of its own (ADR 0043). Empty: the public pool.
        tenant = parse_tenant(named, "tenant") if named else PUBLIC
        session = await use_cases.staff_sessions.sign_in(username, password, tenant)
    except (app.Unauthenticated, app.Forbidden, app.InvalidTenant) as refused:
        status, _title, detail = problem_of(request, refused)
        if isinstance(refused, app.Forbidden):
            detail = "this account may not use the dashboard: it is for the shop's staff"
        return _form(request, status, error=detail, username=username, tenant=named[:64])
    response = Redirect(_next(request), status_code=303)
    response.set_cookie(session_cookie(request, session.secret))
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@post("/sign-out", status_code=303)
async def sign_out(request: Request[Any, Any, Any], use_cases: Injected[UseCases]) -> Response[Any]:
    """Ends the session for good (not only in this browser), then back to the sign-in page."""
    secret = session_of(request)
    if secret is not None:
        await use_cases.staff_sessions.sign_out(secret)
    return ended(Redirect(f"{PREFIX}{SIGN_IN}", status_code=303))
