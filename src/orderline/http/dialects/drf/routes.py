"""The DRF shop's routes under /api/v1: simplejwt's two token views and the caller's orders (ADR 0026).

Each parses the original's request, calls the use cases the native API calls, and writes the original's
answer; the rules (whose order it is, what may change while, what erasure gives back) are the core's.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, PathParameter, QueryParameter

from orderline.application.order_edits import RemoveLine
from orderline.application.pagination import MAX_OFFSET, MAX_OFFSET_LIMIT
from orderline.application.principal import PUBLIC, Scope
from orderline.application.queries import OrderSearch
from orderline.application.use_cases import UseCases
from orderline.http.access import needs, public
from orderline.http.auth import read_ahead_of, shown_order_of_path
from orderline.http.dependencies import Caller, Injected, caller_of, use_cases_of
from orderline.http.dialects.drf.errors import error_specs, json_response
from orderline.http.dialects.drf.examples import ADDRESS_EXAMPLE, ORDER_EXAMPLE, PAGE_EXAMPLE, TOKEN_EXAMPLE
from orderline.http.dialects.drf.mapping import DrfStatus, core_statuses
from orderline.http.dialects.drf.wire import (
    ORDERS_PATH,
    PAGE_SIZE,
    DrfAccessOut,
    DrfBillingIn,
    DrfOrderOut,
    DrfOrdersPage,
    DrfRefreshIn,
    DrfTokenIn,
    DrfTokenPairOut,
    page_links,
    viewed,
    viewed_page,
)
from orderline.http.openapi import body_examples

PREFIX = "/api/v1"
Status = Annotated[
    DrfStatus | None,
    QueryParameter(description="only orders shown in this status (paid: approved, shipped, or waiting for a refund)"),
]
Limit = Annotated[
    int,
    QueryParameter(ge=1, le=2**31 - 1, description=f"page size, {PAGE_SIZE} when not given; above "
                   f"{MAX_OFFSET_LIMIT} means {MAX_OFFSET_LIMIT}, as DRF's max_limit cuts it"),
]  # fmt: skip
# Django's <int:item_id> takes any digits; the document states the range an item id can have, and any
# other number is an item the order does not have (404).
ItemId = Annotated[
    int, PathParameter(description="the item's id within its order", schema_extra={"minimum": 1, "maximum": 2**31 - 1})
]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="skip this many orders first (newest first)")]


def _ok(status: int, container: Any, example: Any, description: str) -> dict[int, ResponseSpec]:
    spec = ResponseSpec(container, description=description, generate_examples=False,
                        examples=[Example(summary="example", value=example)])  # fmt: skip
    return {status: spec}


_NO_CONTENT = {204: ResponseSpec(None, description="done; no body")}


@post(
    "/auth/token/",
    **public(),
    status_code=200,
    operation_id="drfObtainTokenPair",
    summary="Obtain a token pair (simplejwt)",
    description="A username and password for an access token and a refresh token. Wrong credentials, whether or "
    "not the user exists, get the same 401.",
    responses=_ok(200, DrfTokenPairOut, TOKEN_EXAMPLE, "the pair") | error_specs(401, 413, 415),
)
async def obtain_pair(
    data: Annotated[DrfTokenIn, Body(examples=body_examples(login={"username": "alice", "password": "s3cret-pass"}))],
    use_cases: Injected[UseCases],
) -> Response[Any]:
    pair = await use_cases.users.issue_pair(PUBLIC, data.username, data.password)  # no tenant header here yet
    return json_response(DrfTokenPairOut(refresh=pair.refresh.token, access=pair.access.token))


@post(
    "/auth/token/refresh/",
    **public(),
    status_code=200,
    operation_id="drfRefreshToken",
    summary="Refresh the access token (simplejwt)",
    description="A refresh token for a new access token, while the account is active. An access token is refused.",
    responses=_ok(200, DrfAccessOut, {"access": TOKEN_EXAMPLE["access"]}, "a new access token")
    | error_specs(401, 413, 415),
)
async def refresh(
    data: Annotated[DrfRefreshIn, Body(examples=body_examples(refresh={"refresh": TOKEN_EXAMPLE["refresh"]}))],
    use_cases: Injected[UseCases],
) -> Response[Any]:
    issued = await use_cases.users.refresh(data.refresh)
    return json_response(DrfAccessOut(access=issued.token))


@get(
    ORDERS_PATH,
    **needs(Scope.READ_ORDERS),
    operation_id="drfListOrders",
    summary="List your orders",
    description="Your orders, newest first, in pages of limit (10) from offset, with the count of all of them.",
    responses=_ok(200, DrfOrdersPage, PAGE_EXAMPLE, "a page of orders") | error_specs(401, 403, 503),
)
async def list_orders(
    request: Request[Any, Any, Any], status: Status = None, limit: Limit = PAGE_SIZE, offset: Offset = 0
) -> Response[Any]:
    return await show_page(request, status, limit, offset)


@get(
    ORDERS_PATH + "{order_id:uuid}/",
    **needs(Scope.READ_ORDERS),
    read_ahead=shown_order_of_path,
    operation_id="drfGetOrder",
    summary="Get one of your orders",
    responses=_ok(200, DrfOrderOut, ORDER_EXAMPLE, "the order") | error_specs(401, 403, 404, 503),
)
async def get_order(request: Request[Any, Any, Any], order_id: FromPath[UUID]) -> Response[Any]:
    return await show_order(request, order_id)


@put(
    ORDERS_PATH + "{order_id:uuid}/",
    **needs(Scope.WRITE_ORDERS),
    status_code=200,
    operation_id="drfChangeBillingAddress",
    summary="Change the billing address",
    description="Only while the order awaits payment; afterwards 403. Other fields of the body are ignored.",
    responses=_ok(200, DrfOrderOut, ORDER_EXAMPLE, "the order with its new billing address")
    | error_specs(401, 403, 404, 409, 413, 415, 503),
)
async def change_billing_address(
    request: Request[Any, Any, Any],
    order_id: FromPath[UUID],
    data: Annotated[DrfBillingIn, Body(examples=body_examples(new_address={"billing_address": ADDRESS_EXAMPLE}))],
    use_cases: Injected[UseCases],
    principal: Caller,
) -> Response[Any]:
    order = await use_cases.order_edits.change_billing_address(principal, order_id, data.new_address())
    customer = await use_cases.users.beside_order(principal, order.customer_id)
    return json_response(DrfOrderOut.of(order, customer, f"{_absolute(request, ORDERS_PATH)}{order.id}/"))


@delete(
    ORDERS_PATH + "{order_id:uuid}/",
    **needs(Scope.WRITE_ORDERS),
    operation_id="drfDeleteOrder",
    summary="Delete your order (erasure)",
    description="Erases the order in any status: its items go, its billing address stays, its voucher's use is "
    "given back and reserved stock released; a repeat is 404.",
    responses=_NO_CONTENT | error_specs(401, 403, 404, 503),
)
async def delete_order(request: Request[Any, Any, Any], order_id: FromPath[UUID]) -> None:
    await erase_order(request, order_id)


@delete(
    ORDERS_PATH + "{order_id:uuid}/items/{item_id:int}/",
    **needs(Scope.WRITE_ORDERS),
    operation_id="drfDeleteOrderItem",
    summary="Remove an item from your order",
    description="Only while the order awaits payment; afterwards 403. Removing the last item cancels the order.",
    responses=_NO_CONTENT | error_specs(401, 403, 404, 409, 503),
)
async def delete_item(
    order_id: FromPath[UUID], item_id: ItemId, use_cases: Injected[UseCases], principal: Caller
) -> None:
    await use_cases.order_edits.remove_line(principal, RemoveLine(order_id, item_id, unpaid_only=True))


# The bodies of the three routes the fast router also serves (fast.py, ADR 0048): one copy of the work, which the
# Litestar routes above call too. They take the request and find the use cases and the caller in it.


async def show_page(
    request: Request[Any, Any, Any], status: DrfStatus | None, limit: int, offset: int
) -> Response[Any]:
    """The caller's orders as LimitOffsetPagination pages them."""
    principal = await caller_of(request)
    where = OrderSearch(statuses=None if status is None else core_statuses(status))
    limit = min(limit, MAX_OFFSET_LIMIT)  # as DRF's max_limit: a larger page is cut, not refused
    # The page, each order's customer and the count of them all: one statement (ADR 0048).
    shown, count = await use_cases_of(request).order_reads.search_shown(principal, where, offset=offset, limit=limit)
    base = _absolute(request, ORDERS_PATH)
    # As the client wrote it: Litestar's own URL of the request has lost the trailing slash.
    url = base + (f"?{request.url.query}" if request.url.query else "")
    next_link, previous = page_links(url, count, offset, limit)
    results = viewed_page(shown, base)
    return json_response(DrfOrdersPage(count=count, next=next_link, previous=previous, results=results))


async def show_order(request: Request[Any, Any, Any], order_id: UUID) -> Response[Any]:
    """One of the caller's orders with its customer, read in one statement (ADR 0048)."""
    principal = await caller_of(request)
    view, customer = await use_cases_of(request).order_reads.get_shown(
        principal, order_id, read_ahead_of(request.scope)
    )
    return json_response(viewed(view, customer, f"{_absolute(request, ORDERS_PATH)}{view.id}/"))


async def erase_order(request: Request[Any, Any, Any], order_id: UUID) -> None:
    """The core's erasure, which the page promises every customer (ADR 0026)."""
    principal = await caller_of(request)
    await use_cases_of(request).orders.erase(principal, order_id, owner_may_erase=True)


def _absolute(request: Request[Any, Any, Any], path: str) -> str:
    """``path`` under the mount as an absolute URL, as DRF's ``build_absolute_uri`` makes it."""
    return str(request.base_url).rstrip("/") + PREFIX + path


ROUTES = [obtain_pair, refresh, list_orders, get_order, change_billing_address, delete_order, delete_item]
