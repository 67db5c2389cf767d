"""The Webhooks pages: subscriptions, a subscription's deliveries with their last answer, and replay."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.application.ports import DeliveryStatus
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.domain.errors import DomainError
from orderline.http.dashboard import forms
from orderline.http.dashboard.pages import page, problem_of, status_and_error
from orderline.http.dashboard.session import PREFIX
from orderline.http.dependencies import Injected

PAGE_SIZE = 25


class WebhookPages(Controller):
    path = "/webhooks"

    @get("/", media_type=MediaType.HTML)
    async def subscriptions(
        self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Injected[Principal]
    ) -> Template:
        query = request.query_params
        found = await use_cases.webhooks.list(staff, limit=PAGE_SIZE, cursor=forms.text(query, "cursor"))
        more = None if found.next_cursor is None else forms.continued(f"{PREFIX}/webhooks", query, found.next_cursor)
        return page(request, "webhooks.html", subscriptions=found.items, next=more)

    @get("/{subscription_id:uuid}", media_type=MediaType.HTML)
    async def subscription(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        staff: Injected[Principal],
        subscription_id: FromPath[UUID],
    ) -> Template:
        return await _subscription_page(request, use_cases, staff, subscription_id)

    @post("/{subscription_id:uuid}/deliveries/{delivery_id:uuid}/replay", media_type=MediaType.HTML)
    async def replay(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        staff: Injected[Principal],
        subscription_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
    ) -> Any:
        try:
            await use_cases.webhooks.replay_delivery(staff, subscription_id, delivery_id)
        except (DomainError, app.ApplicationError) as refused:
            if isinstance(refused, app.Unauthenticated):
                raise
            return await _subscription_page(request, use_cases, staff, subscription_id, refused)
        return Redirect(f"{PREFIX}/webhooks/{subscription_id}?replayed={delivery_id}", status_code=303)


async def _subscription_page(
    request: Request[Any, Any, Any],
    use_cases: UseCases,
    staff: Principal,
    subscription_id: UUID,
    refused: DomainError | app.ApplicationError | None = None,
) -> Template:
    query = request.query_params
    status, error = status_and_error(request, refused)
    subscription = await use_cases.webhooks.get(staff, subscription_id)
    try:
        wanted = forms.choice(query, "status", DeliveryStatus)
        found = await use_cases.webhooks.deliveries(
            staff, subscription_id, status=wanted, limit=PAGE_SIZE, cursor=forms.text(query, "cursor")
        )
    except (DomainError, app.ApplicationError) as unreadable:
        status, _title, error = problem_of(request, unreadable)
        deliveries, more = [], None
    else:
        deliveries = found.items
        path = f"{PREFIX}/webhooks/{subscription_id}"
        more = None if found.next_cursor is None else forms.continued(path, query, found.next_cursor)
    return page(request, "webhook.html", status, error=error, subscription=subscription, deliveries=deliveries,
                next=more, query=query, statuses=list(DeliveryStatus))  # fmt: skip
