"""The Customers pages: find accounts, read one with their orders, suspend or reactivate it with a reason."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.application.order_finder import StaffSearch
from orderline.application.orders import OrderFilter
from orderline.application.principal import Principal
from orderline.application.queries import UserQuery
from orderline.application.use_cases import UseCases
from orderline.domain.errors import DomainError
from orderline.domain.user import Role, UserStatus
from orderline.http.dashboard import forms
from orderline.http.dashboard.pages import page, problem_of, status_and_error
from orderline.http.dashboard.session import PREFIX
from orderline.http.dependencies import Injected

PAGE_SIZE = 25
THEIR_ORDERS = 10
HTML = MediaType.HTML


class CustomerPages(Controller):
    path = "/customers"

    @get("/", media_type=HTML)
    async def customers(
        self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Injected[Principal]
    ) -> Template:
        query = request.query_params
        context: dict[str, Any] = {"query": query, "statuses": list(UserStatus), "roles": list(Role)}
        try:
            wanted = UserQuery(status=forms.choice(query, "status", UserStatus), role=forms.choice(query, "role", Role),
                               search=forms.text(query, "search"), limit=PAGE_SIZE)  # fmt: skip
            found = await use_cases.users.list(staff, wanted, cursor=forms.text(query, "cursor"))
        except (DomainError, app.ApplicationError) as refused:
            status, _title, detail = problem_of(request, refused)
            return page(request, "customers.html", status, error=detail, users=[], next=None, **context)
        more = None if found.next_cursor is None else forms.continued(f"{PREFIX}/customers", query, found.next_cursor)
        return page(request, "customers.html", users=found.items, next=more, **context)

    @get("/{user_id:uuid}", media_type=HTML)
    async def customer(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        staff: Injected[Principal],
        user_id: FromPath[UUID],
    ) -> Template:
        return await _customer_page(request, use_cases, staff, user_id)

    @post("/{user_id:uuid}/status", media_type=HTML)
    async def set_status(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        staff: Injected[Principal],
        user_id: FromPath[UUID],
    ) -> Any:
        form = await request.form()
        try:
            status = forms.choice(form, "status", UserStatus)
            if status is None:
                raise app.InvalidInput("status", "choose SUSPENDED or ACTIVE", "required")
            await use_cases.users.set_status(staff, user_id, status, forms.required_reason(form))
        except (DomainError, app.ApplicationError) as refused:
            if isinstance(refused, app.Unauthenticated | app.NotFound):
                raise
            return await _customer_page(request, use_cases, staff, user_id, refused)
        return Redirect(f"{PREFIX}/customers/{user_id}", status_code=303)


async def _customer_page(
    request: Request[Any, Any, Any],
    use_cases: UseCases,
    staff: Principal,
    user_id: UUID,
    refused: DomainError | app.ApplicationError | None = None,
) -> Template:
    user = await use_cases.users.get(staff, user_id)
    orders = await use_cases.order_finder.search(staff, StaffSearch(OrderFilter(), str(user.id)), limit=THEIR_ORDERS)
    status, error = status_and_error(request, refused)
    return page(request, "customer.html", status, user=user, orders=orders.items, more=orders.next_cursor, error=error)
