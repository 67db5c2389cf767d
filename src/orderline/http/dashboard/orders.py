"""The Orders pages: find orders, read one (lines, money, payments, its timeline), and act on it.

Every action is the API's use case, called with the signed-in staff member; its refusal is shown on the
order's page as the problem's detail. Nothing here decides what an order allows: allowed_actions does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.application.order_actions import allowed_actions
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import CancelOrder
from orderline.application.principal import Principal
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.domain.errors import DomainError
from orderline.domain.order import CancelReason
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus
from orderline.http.dashboard import forms
from orderline.http.dashboard.pages import page, problem_of
from orderline.http.dashboard.session import PREFIX
from orderline.http.dependencies import Injected

PAGE_SIZE = 25
TIMELINE = 50  # audit entries of one order shown, newest first
Staff = Injected[Principal]


class OrderPages(Controller):
    path = "/orders"

    @get("/")
    async def orders(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff) -> Any:
        query = request.query_params
        context: dict[str, Any] = {
            "query": query,
            "statuses": list(OrderStatus),
            "payment_statuses": list(OrderPaymentStatus),
            "orders": [],
            "next": None,
        }
        try:
            if number := forms.text(query, "number"):
                found = await use_cases.order_finder.by_number(staff, number)
                return Redirect(f"{PREFIX}/orders/{found.id}", status_code=303)
            search = forms.order_search(query)
            found_page = await use_cases.order_finder.search(
                staff, search, limit=PAGE_SIZE, cursor=forms.text(query, "cursor")
            )
        except (DomainError, app.ApplicationError) as refused:
            status, _title, detail = problem_of(request, refused)
            return page(request, "orders.html", status, error=detail, **context)
        context |= {
            "orders": found_page.items,
            "next": None
            if found_page.next_cursor is None
            else forms.continued(f"{PREFIX}/orders", query, found_page.next_cursor),
        }
        return page(request, "orders.html", **context)

    @get("/{order_id:uuid}")
    async def order(
        self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff, order_id: FromPath[UUID]
    ) -> Template:
        return await _order_page(request, use_cases, staff, order_id)

    @post("/{order_id:uuid}/cancel")
    async def cancel(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                     order_id: FromPath[UUID]) -> Any:  # fmt: skip
        return await _act(request, use_cases, staff, order_id,
                          lambda form: use_cases.orders.cancel(staff, _cancel(order_id, form)))  # fmt: skip

    @post("/{order_id:uuid}/force-cancel")
    async def force_cancel(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                           order_id: FromPath[UUID]) -> Any:  # fmt: skip
        cancel = use_cases.orders.cancel
        return await _act(request, use_cases, staff, order_id,
                          lambda form: cancel(staff, _cancel(order_id, form), force=True))  # fmt: skip

    @post("/{order_id:uuid}/lines/{line_id:int}/remove")
    async def remove_line(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                          order_id: FromPath[UUID], line_id: FromPath[int]) -> Any:  # fmt: skip
        def command(form: forms.FormData) -> RemoveLine:
            return RemoveLine(order_id, line_id, forms.whole(form, "quantity"), forms.cancel_reason(form),
                              forms.text(form, "note"), expected_version=forms.version(form))  # fmt: skip

        return await _act(request, use_cases, staff, order_id,
                          lambda form: use_cases.order_edits.remove_line(staff, command(form)))  # fmt: skip

    @post("/{order_id:uuid}/ship")
    async def ship(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                   order_id: FromPath[UUID]) -> Any:  # fmt: skip
        ship = use_cases.orders.ship
        return await _act(request, use_cases, staff, order_id,
                          lambda form: ship(staff, order_id, expected_version=forms.version(form)))  # fmt: skip

    @post("/{order_id:uuid}/deliver")
    async def deliver(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                      order_id: FromPath[UUID]) -> Any:  # fmt: skip
        deliver = use_cases.orders.deliver
        return await _act(request, use_cases, staff, order_id,
                          lambda form: deliver(staff, order_id, expected_version=forms.version(form)))  # fmt: skip

    @post("/{order_id:uuid}/erase")
    async def erase(self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Staff,
                    order_id: FromPath[UUID]) -> Any:  # fmt: skip
        form = await request.form()
        try:
            order = await use_cases.orders.get(staff, order_id)
            forms.confirmed(form, order.number)
            await use_cases.orders.erase(staff, order_id)
        except (DomainError, app.ApplicationError) as refused:
            if isinstance(refused, app.NotFound):
                raise
            return await _order_page(request, use_cases, staff, order_id, refused=refused)
        return Redirect(f"{PREFIX}/orders?erased={order.number}", status_code=303)


def _cancel(order_id: UUID, form: forms.FormData) -> CancelOrder:
    return CancelOrder(order_id, forms.cancel_reason(form), forms.text(form, "note"), forms.version(form))


async def _act(request: Request[Any, Any, Any], use_cases: UseCases, staff: Principal, order_id: UUID,
               action: Callable[[forms.FormData], Awaitable[object]]) -> Any:  # fmt: skip
    """Run ``action``; then back to the order's page (a redirect, so reloading repeats nothing), or the page
    with the refusal when the use case said no."""
    form = await request.form()
    try:
        await action(form)
    except (DomainError, app.ApplicationError) as refused:
        if isinstance(refused, app.Unauthenticated | app.NotFound):
            raise
        return await _order_page(request, use_cases, staff, order_id, refused=refused)
    return Redirect(f"{PREFIX}/orders/{order_id}", status_code=303)


async def _order_page(
    request: Request[Any, Any, Any],
    use_cases: UseCases,
    staff: Principal,
    order_id: UUID,
    refused: DomainError | app.ApplicationError | None = None,
) -> Template:
    order = await use_cases.orders.get(staff, order_id)
    payments = await use_cases.payments.of_order(staff, order_id, limit=100)
    timeline = await use_cases.audit_log.list(
        staff, AuditQuery(entity_type="ORDER", entity_id=str(order_id), limit=TIMELINE)
    )
    status, error = 200, None
    if refused is not None:
        status, _title, error = problem_of(request, refused)
    return page(
        request,
        "order.html",
        status,
        order=order,
        payments=payments.items,
        timeline=timeline.items,
        actions={str(action) for action in allowed_actions(order, staff)},
        reasons=list(CancelReason),
        error=error,
    )
