"""The dashboard's session in the browser: its cookies, the CSRF token every form carries, and the staff
member a request comes from (ADR 0037).

The session cookie holds the secret of a staff member's session; StaffSessions judges it on every request,
so a suspended account's session ends at its next request, and a signed-out one for good. The CSRF token of
a form is a digest of the cookie the form acts under (the session's, or before signing in a random one of
its own): a page of another site can neither read that cookie nor so compute the token, and a token never
outlives its session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application.errors import ApplicationError, Unauthenticated
from orderline.application.principal import PUBLIC, Principal
from orderline.application.use_cases import UseCases

PREFIX = "/admin"
# The pages' authentication decision (``opt["auth"]``): a staff session, which the ``staff`` dependency judges
# from the cookie. Not a scope: the API's access middleware, which reads bearer credentials, leaves it alone.
STAFF_SESSION = "staff-session"
SESSION_COOKIE = "orderline_session"
SIGN_IN_COOKIE = "orderline_sign_in"  # what the sign-in form's token is bound to, before there is a session
CSRF_FIELD = "csrf"
_CSRF_LABEL = b"orderline dashboard csrf\x00"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_RESUMED = "orderline_dashboard_staff"  # the request state's key for the staff member in_tenant_time found


class CsrfRefused(PermissionDeniedException):
    """A form that did not come from a page of this dashboard in this browser session."""


def csrf_token(cookie_value: str) -> str:
    return hashlib.sha256(_CSRF_LABEL + cookie_value.encode()).hexdigest()


def session_of(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def csrf_of(request: Request[Any, Any, Any]) -> str:
    """The token this request's forms carry; empty when it has no session (the sign-in page sets its own)."""
    session = session_of(request)
    return csrf_token(session) if session else ""


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """The dashboard's before_request hook: every form that changes something carries the token of the
    cookie it acts under. Forms are read here, not as JSON: this hook stands in for the API's strict reader."""
    if request.method not in _UNSAFE:
        return
    bound_to = session_of(request) or request.cookies.get(SIGN_IN_COOKIE)
    sent = (await request.form()).get(CSRF_FIELD)
    if not bound_to or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(bound_to)):
        raise CsrfRefused(detail="this form did not come from this dashboard's page: open the page again and retry")


async def staff_of(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the staff member behind the session cookie; Unauthenticated sends the browser to sign in."""
    resumed = request.scope["state"].get(_RESUMED)
    if isinstance(resumed, Principal):  # in_tenant_time judged this request's session already
        return resumed
    token = session_of(request)
    if token is None:
        raise Unauthenticated("sign in to use the dashboard")
    use_cases: UseCases = request.app.state.use_cases
    return await use_cases.staff_sessions.resume(token)


def in_tenant_time(app: ASGIApp) -> ASGIApp:
    """The dashboard's middleware in the sandbox (ADR 0043): a staff page of a sandbox tenant's session is drawn in
    that tenant's time (the API's own middleware finds the tenant from bearer credentials, never from this cookie).
    The session is judged first, in real time, like the browser that holds it, and ``staff_of`` takes it from here:
    a tenant's clock moved past a session's lifetime does not sign its staff out. Outside the sandbox, on a page
    anyone may open, or without a session that still stands, the request goes on as it came."""

    async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
        use_cases: UseCases = scope["litestar_app"].state.use_cases
        handler = scope.get("route_handler")
        staff_page = (
            scope["type"] == ScopeType.HTTP and handler is not None and handler.opt.get("auth") == STAFF_SESSION
        )
        secret = ASGIConnection(scope).cookies.get(SESSION_COOKIE) if staff_page else None
        if use_cases.sandbox is None or not secret:
            await app(scope, receive, send)
            return
        try:
            staff = await use_cases.staff_sessions.resume(secret)
        except ApplicationError:  # staff_of refuses it, as without the sandbox
            await app(scope, receive, send)
            return
        scope["state"][_RESUMED] = staff
        if staff.tenant == PUBLIC:  # the public pool is never a sandbox tenant: nothing to read
            await app(scope, receive, send)
            return
        async with use_cases.sandbox.times.acting_for(staff.tenant):
            await app(scope, receive, send)

    return middleware


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def session_cookie(request: Request[Any, Any, Any], secret: str) -> Cookie:
    """A browser-session cookie (gone when the browser closes); the session it names ends sooner or later."""
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def sign_in_cookie(request: Request[Any, Any, Any]) -> Cookie:
    """A fresh random value the sign-in form's token is bound to (a login form is a form too)."""
    return Cookie(
        key=SIGN_IN_COOKIE,
        value=secrets.token_urlsafe(32),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def ended(response: Response[Any]) -> Response[Any]:
    """``response``, also telling the browser to forget the session."""
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
