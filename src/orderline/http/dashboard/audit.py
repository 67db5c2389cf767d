"""The Audit log page: every entry, newest first, filtered by what it is about, who acted and what they did."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from litestar import Request, get
from litestar.enums import MediaType
from litestar.response import Template

from orderline.application import errors as app
from orderline.application.audit import Action, EntityType
from orderline.application.principal import Principal
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.domain.errors import DomainError
from orderline.http.dashboard import forms
from orderline.http.dashboard.pages import page, problem_of
from orderline.http.dashboard.session import PREFIX, STAFF_SESSION
from orderline.http.dependencies import Injected

PAGE_SIZE = 50


@get("/audit", media_type=MediaType.HTML, opt={"auth": STAFF_SESSION})
async def audit_log(
    request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Injected[Principal]
) -> Template:
    query = request.query_params
    context: dict[str, Any] = {"query": query, "actions": list(Action), "entity_types": list(EntityType)}
    try:
        start, end = forms.day(query, "from"), forms.day(query, "to")
        wanted = AuditQuery(
            entity_type=forms.text(query, "entity_type"),
            entity_id=forms.text(query, "entity_id"),
            actor_id=forms.text(query, "actor_id"),
            action=forms.text(query, "action"),
            occurred_after=None if start is None else datetime.combine(start, time(0), UTC),
            occurred_before=None if end is None else datetime.combine(end + timedelta(days=1), time(0), UTC),
            limit=PAGE_SIZE,
        )
        found = await use_cases.audit_log.list(staff, wanted, cursor=forms.text(query, "cursor"))
    except (DomainError, app.ApplicationError) as refused:
        status, _title, detail = problem_of(request, refused)
        return page(request, "audit.html", status, error=detail, entries=[], next=None, **context)
    more = None if found.next_cursor is None else forms.continued(f"{PREFIX}/audit", query, found.next_cursor)
    return page(request, "audit.html", entries=found.items, next=more, **context)
