"""Order routes: /v1/orders — place, read, list and cancel."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, cast
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response
from litestar.types import Scope as AsgiScope

from orderline.application.idempotency import KeyClaim
from orderline.application.orders import CancelOrder, OrderFilter, PlacedOrder
from orderline.application.ports import PageAhead
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.order import Order
from orderline.domain.status import OrderStatus
from orderline.http.access import needs, public
from orderline.http.answer import JsonAnswer
from orderline.http.api.examples import (
    CANCEL_EXAMPLE,
    CANCEL_PENDING_EXAMPLE,
    ORDER_EXAMPLE,
    ORDER_PAGE_EXAMPLE,
    PLACE_EXAMPLES,
    PLACED_EXAMPLE,
)
from orderline.http.api.order_wire import (
    CancelIn,
    OrderIn,
    OrderOut,
    PlacedOrderOut,
    cancel_answer,
    viewed,
)
from orderline.http.api.wire import (
    CreatedAfter,
    CreatedBefore,
    Cursor,
    Limit,
    PageOut,
)
from orderline.http.auth import order_of_path, read_ahead_of
from orderline.http.dependencies import Caller, Injected, caller_of, use_cases_of
from orderline.http.idempotency import IdempotencyKey, idempotent
from orderline.http.openapi import body_examples, problems, success
from orderline.http.own_routes import plain_query
from orderline.http.preconditions import IfMatch, etag, version_in
from orderline.http.wire import in_utc

_LIMIT = re.compile("[1-9][0-9]?|100")  # 1 to 100 as JSON writes it (http/api/wire.py's Limit)
_CURSOR = re.compile("[A-Za-z0-9_-]{1,256}")  # http/api/wire.py's Cursor
_STATUSES = {status.value: status for status in OrderStatus}
# The list's query when it is plain (http/own_routes.py's plain_query): status, limit and cursor, each at most once
# and plainly valid; anything else (the time bounds among them) is None, and Litestar reads or refuses it.
plain_list_query = plain_query(
    {
        "status": _STATUSES.get,
        "limit": lambda value: int(value) if _LIMIT.fullmatch(value) else None,
        "cursor": lambda value: value if _CURSOR.fullmatch(value) else None,
    },
    {"status": None, "created_after": None, "created_before": None, "limit": 20, "cursor": None},
)


def own_page_of_query(scope: AsgiScope) -> PageAhead | None:
    """The page of the caller's own orders a plain list query asks for, to read ahead with a user's credential."""
    query = plain_list_query(scope.get("query_string", b""))
    return None if query is None else PageAhead(query["status"], query["limit"], query["cursor"])


class OrderController(Controller):
    path = "/orders"
    tags = ("Store",)

    @post(
        "/",
        **public(),
        operation_id="createOrder",
        summary="Create Order",
        description="Places an order in PLACED status; anonymous callers are allowed. The total is "
        "computed from catalogue prices and the stock is reserved at once.",
        responses={
            **success(201, PlacedOrderOut, PLACED_EXAMPLE, "the order was placed"),
            **problems("pet-not-found", "out-of-stock", "unauthorized", "currency-mismatch", "idempotency-key-reused",
                       "voucher-not-applicable", "invalid-address",
                       "idempotency-key-in-use",
                       "invalid-order", "total-mismatch", "unknown-currency", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def create(
        self,
        data: Annotated[OrderIn, Body(examples=body_examples(**PLACE_EXAMPLES))],
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        return await create_order(request, data, idempotency_key)

    @get(
        "/{order_id:uuid}",
        **needs(Scope.READ_ORDERS),
        read_ahead=order_of_path,
        operation_id="getOrder",
        summary="Get Order",
        responses={
            **success(200, OrderOut, ORDER_EXAMPLE, "the order, with its ETag"),
            **problems("not-found", "unauthorized", "forbidden"),
        },
    )
    async def read(self, order_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Response[OrderOut]:
        return await read_order(request, order_id)

    @get(
        "/",
        **needs(Scope.READ_ORDERS),
        response_class=JsonAnswer,
        read_ahead=own_page_of_query,
        operation_id="listOrders",
        summary="List Orders",
        description="Newest first, keyset-paginated: pass nextCursor back as cursor.",
        responses={
            **success(200, PageOut[OrderOut], ORDER_PAGE_EXAMPLE, "a page of orders"),
            **problems("unauthorized", "forbidden"),
        },
    )
    async def list(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[OrderStatus | None] = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[OrderOut]:
        return await list_orders(request, status, created_after, created_before, limit, cursor)

    @delete(
        "/{order_id:uuid}",
        **needs(Scope.WRITE_ORDERS),
        operation_id="cancelOrder",
        summary="Cancel Order",
        description="Cancels a PLACED or APPROVED order (reason CUSTOMER_REQUEST): 204 once it is CANCELLED, "
        "its stock released and any payment refunded; 202 with the order while an asynchronous refund is "
        "pending (CANCEL_PENDING). The order is kept.",
        responses={
            204: ResponseSpec(None, description="the order is cancelled; a replayed request says so again"),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, "the cancel waits for the refund (CANCEL_PENDING)"),
            **problems(
                "not-found",
                "order-not-cancellable",
                "precondition-failed",
                "unauthorized",
                "forbidden",
                "idempotency-key-reused",
                "idempotency-key-in-use",
            ),
        },
    )
    async def cancel_by_delete(
        self,
        order_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[None]:
        # Annotated as bodiless for Litestar, as a 204 (also when replayed) carries nothing; a 202 has the order.
        return cast(Response[None], await delete_order(request, order_id, if_match, idempotency_key))

    @post(
        "/{order_id:uuid}/cancel",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="cancelOrderWithReason",
        summary="Cancel Order with a reason",
        description="Cancels a PLACED or APPROVED order with a reason: 200 once it is CANCELLED (stock released, "
        "payment refunded), 202 while an asynchronous refund is pending (CANCEL_PENDING). Cancelling a "
        "CANCEL_PENDING order answers 202 again and starts nothing new.",
        responses={
            **success(200, OrderOut, CANCEL_EXAMPLE, "the cancelled order"),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, "the cancel waits for the refund (CANCEL_PENDING)"),
            **problems("not-found", "order-not-cancellable", "precondition-failed", "unauthorized", "forbidden",
                       "idempotency-key-reused", "idempotency-key-in-use", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def cancel(
        self,
        order_id: FromPath[UUID],
        data: Annotated[
            CancelIn,
            Body(examples=body_examples(duplicate={"reason": "DUPLICATE", "note": "placed twice"})),
        ],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        return await cancel_order(request, order_id, data, if_match, idempotency_key)

    @post(
        "/{order_id:uuid}/erase",
        **needs(Scope.WRITE_ORDERS),
        status_code=204,
        operation_id="eraseOwnOrder",
        summary="Erase your own order (hard delete)",
        description="Where the shop allows it (ORDERLINE_CUSTOMER_ERASURE=true), a customer erases their own "
        "order as an admin would: lines removed, reserved stock released, voucher use given back, billing "
        "address kept, an audit tombstone left. Otherwise 403. A repeat is 404.",
        responses=problems("not-found", "unauthorized", "forbidden"),
    )
    async def erase(self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.orders.erase(principal, order_id)


# The hot routes' work, one function each: the routes above call them after Litestar parsed their parameters, the
# hot router (http/hot_routes.py) after parsing them itself. They take the request, not injected dependencies
# (http/dependencies.py, ADR 0039).


async def create_order(request: Request[Any, Any, Any], data: OrderIn, idempotency_key: str | None) -> Response[Any]:
    use_cases, principal = use_cases_of(request), await caller_of(request)

    def answer(placed: PlacedOrder) -> Response[Any]:
        headers = {"Location": f"/v1/orders/{placed.order.id}", "ETag": etag(placed.order)}
        return JsonAnswer(PlacedOrderOut.placed(placed), status_code=201, headers=headers)

    async def place(claim: KeyClaim[PlacedOrder] | None) -> PlacedOrder:
        return await use_cases.orders.place(principal, data.command(), claim=claim)

    return await idempotent(request, use_cases, idempotency_key, place, answer)


async def read_order(request: Request[Any, Any, Any], order_id: UUID) -> Response[OrderOut]:
    principal = await caller_of(request)
    view = await use_cases_of(request).order_reads.get(principal, order_id, read_ahead_of(request.scope))
    return JsonAnswer(viewed(view), headers={"ETag": etag(view)})


async def list_orders(
    request: Request[Any, Any, Any],
    status: OrderStatus | None,
    created_after: datetime | None,
    created_before: datetime | None,
    limit: int,
    cursor: str | None,
) -> PageOut[OrderOut]:
    principal = await caller_of(request)
    where = OrderFilter(status, in_utc(created_after, "createdAfter"), in_utc(created_before, "createdBefore"))
    read = read_ahead_of(request.scope)
    page = await use_cases_of(request).order_reads.list(principal, where, limit=limit, cursor=cursor, read=read)
    return PageOut([viewed(view) for view in page.items], page.next_cursor)


async def delete_order(
    request: Request[Any, Any, Any], order_id: UUID, if_match: str | None, idempotency_key: str | None
) -> Response[Any]:
    use_cases, principal = use_cases_of(request), await caller_of(request)

    async def cancel(claim: KeyClaim[Order] | None) -> Order:
        command = CancelOrder(order_id, expected_version=version_in(if_match, order_id))
        return await use_cases.orders.cancel(principal, command, claim=claim)

    def answer(order: Order) -> Response[Any]:
        return cancel_answer(order, cancelled_status=204)

    return await idempotent(request, use_cases, idempotency_key, cancel, answer)


async def cancel_order(
    request: Request[Any, Any, Any],
    order_id: UUID,
    data: CancelIn,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[Any]:
    use_cases, principal = use_cases_of(request), await caller_of(request)

    async def cancel(claim: KeyClaim[Order] | None) -> Order:
        command = CancelOrder(order_id, data.reason, data.note, version_in(if_match, order_id))
        return await use_cases.orders.cancel(principal, command, claim=claim)

    return await idempotent(request, use_cases, idempotency_key, cancel, cancel_answer)
