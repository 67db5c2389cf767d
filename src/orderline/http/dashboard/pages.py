"""How the dashboard answers: a page from a template with what every page needs, and refusals as pages.

A refusal of a use case is shown as the problem the API would answer (its title and ``detail``), with the
same status code; an ended session sends the browser to the sign-in page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.domain.errors import DomainError
from orderline.http.dashboard.session import PREFIX, csrf_of, ended
from orderline.http.problems import refusal_to_problem


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    """The template ``name`` with the request's CSRF token and path, so the layout can draw its forms."""
    return Template(
        template_name=name,
        media_type=MediaType.HTML,
        context={"csrf": csrf_of(request), "path": request.url.path, "signed_in": True, "error": None, **context},
        status_code=status_code,
    )


def problem_of(request: Request[Any, Any, Any], exc: DomainError | app.ApplicationError) -> tuple[int, str, str]:
    """(status, title, detail) of the problem the API answers for this refusal."""
    problem = refusal_to_problem(exc, request.app.state.problem_base_uri)
    return problem.status_code, problem.title or "Refused", problem.detail or ""


def status_and_error(
    request: Request[Any, Any, Any], refusal: DomainError | app.ApplicationError | None
) -> tuple[int, str | None]:
    """A page drawn again after a refused action: the refusal's status and ``detail``; (200, None) without one."""
    if refusal is None:
        return 200, None
    status, _title, detail = problem_of(request, refusal)
    return status, detail


def refused(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Router exception handler: a refusal of a use case, or of the HTTP layer, as a page."""
    if isinstance(exc, app.Unauthenticated):
        target = f"{PREFIX}/sign-in"
        if request.method == "GET" and request.url.path != target:
            target += f"?next={quote(request.url.path)}"
        return ended(Redirect(target, status_code=303))
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError | app.ApplicationError):
        status, title, detail = problem_of(request, exc)
    elif isinstance(exc, HTTPException):
        status, title, detail = exc.status_code, _TITLES.get(exc.status_code, "Refused"), exc.detail
        headers = dict(exc.headers or {})  # a 429's Retry-After
    else:
        raise exc
    signed_in = not isinstance(exc, app.Forbidden)
    answer = page(request, "error.html", status, title=title, detail=detail, signed_in=signed_in)
    answer.headers.update(headers)
    return answer


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 429: "Too many requests"}
