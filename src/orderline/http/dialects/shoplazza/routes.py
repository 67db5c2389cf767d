"""Shoplazza Open API 2022-01 order routes: get, list, count, cancel and delete, on the native use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Response

from orderline.application.errors import InvalidInput
from orderline.application.orders import CancelOrder
from orderline.application.pagination import MAX_OFFSET, MAX_OFFSET_LIMIT
from orderline.application.principal import Scope
from orderline.application.queries import OrderSearch
from orderline.application.use_cases import UseCases
from orderline.domain.order import CancelReason
from orderline.http.dependencies import Caller, Injected
from orderline.http.dialects.shoplazza.auth import needs
from orderline.http.dialects.shoplazza.errors import NOT_FOUND, answer
from orderline.http.dialects.shoplazza.examples import CANCEL_BODY_EXAMPLE, COUNT_EXAMPLE, LIST_EXAMPLE, ORDER_EXAMPLE
from orderline.http.dialects.shoplazza.mapping import FinancialStatus, FulfillmentStatus, ShoplazzaStatus, matching
from orderline.http.dialects.shoplazza.wire import (
    ShoplazzaCancelIn,
    ShoplazzaCount,
    ShoplazzaDeleted,
    ShoplazzaErrors,
    ShoplazzaOrder,
    ShoplazzaOrderList,
    utc,
)
from orderline.http.openapi import body_examples
from orderline.http.wire import TIMESTAMP_PATTERN, TIMESTAMP_RULE, in_utc

DELETED = "The order was successfully deleted"
DEFAULT_LIMIT = 10

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_OFFSET_LIMIT, description="orders per page, 1 to 250")]
PageNumber = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_OFFSET + 1,
        description=f"the page, from 1; the pages before it may hold at most {MAX_OFFSET} orders "
        "((page - 1) x limit), else 422: narrow the search with the created_at bounds instead",
    ),
]


def _time(name: str, what: str) -> QueryParameter:
    return QueryParameter(
        name=name, description=f"{what}; {TIMESTAMP_RULE}", schema_extra={"pattern": TIMESTAMP_PATTERN}
    )


CreatedMin = Annotated[datetime | None, _time("created_at_min", "orders created at or after this time")]
CreatedMax = Annotated[datetime | None, _time("created_at_max", "orders created at or before this time")]
UpdatedMin = Annotated[datetime | None, _time("updated_at_min", "orders last changed at or after this time")]
UpdatedMax = Annotated[datetime | None, _time("updated_at_max", "orders last changed at or before this time")]
StatusFilter = Annotated[ShoplazzaStatus | None, QueryParameter(description="the order's status")]
FinancialFilter = Annotated[FinancialStatus | None, QueryParameter(description="the order's financial_status")]
FulfillmentFilter = Annotated[FulfillmentStatus | None, QueryParameter(description="the order's fulfillment_status")]

_EXAMPLES = {
    400: "the body is not UTF-8 JSON of a sane depth",
    401: "send an orderline API key (olk_...) as the Access-Token header",
    403: "this operation needs the scope 'write_order'",
    404: NOT_FOUND,
    406: "the order cannot be cancelled: its status is placed and its fulfillment_status shipped",
    409: "order 019b4139-1234-7abc-8def-123456789abc was changed by someone else",
    413: "send a body of at most 10000000 bytes",
    415: "send the body as application/json, not text/plain",
    422: "limit: Expected `int` <= 250",
    429: "at most 1200 requests per 60 seconds; try again in 42 seconds",
    500: "internal error; quote the Request-Id header when reporting it",
}


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Shoplazza's error body for each status an operation may answer (besides those every one may)."""
    return {
        status: ResponseSpec(
            data_container=ShoplazzaErrors,
            generate_examples=False,
            description=f"refused: {status}",
            examples=[Example(summary=str(status), value={"errors": [_EXAMPLES[status]]})],
        )
        for status in sorted({400, 401, 403, 422, 429, 500, *statuses})
    }


def _ok(container: Any, description: str, example: Any) -> dict[int, ResponseSpec]:
    examples = [Example(summary="example", value=example)]
    return {200: ResponseSpec(data_container=container, generate_examples=False, description=description,
                              examples=examples)}  # fmt: skip


def _search(
    status: ShoplazzaStatus | None,
    financial_status: FinancialStatus | None,
    fulfillment_status: FulfillmentStatus | None,
    times: tuple[datetime | None, datetime | None, datetime | None, datetime | None],
) -> OrderSearch | None:
    """The core search the filters ask for; None when no order can show as they ask."""
    wanted = matching(status, financial_status, fulfillment_status)
    if wanted.none:
        return None
    created_min, created_max, updated_min, updated_max = times
    return OrderSearch(
        statuses=wanted.statuses,
        payment_statuses=wanted.payment_statuses,
        created_after=utc(in_utc(created_min, "created_at_min"), "created_at_min"),
        created_before=utc(in_utc(created_max, "created_at_max"), "created_at_max", inclusive_end=True),
        updated_after=utc(in_utc(updated_min, "updated_at_min"), "updated_at_min"),
        updated_before=utc(in_utc(updated_max, "updated_at_max"), "updated_at_max", inclusive_end=True),
    )


class ShoplazzaOrders(Controller):
    path = "/orders"

    @get(
        "/",
        **needs(Scope.READ_ORDER),
        operation_id="shoplazzaListOrders",
        summary="List Orders (Shoplazza)",
        description="Newest first, a page at a time (page, limit); count is how many orders match over every page.",
        responses={**_ok(ShoplazzaOrderList, "the page of orders, and how many match", LIST_EXAMPLE), **_errors()},
    )
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        principal: Caller,
        limit: Limit = DEFAULT_LIMIT,
        page: PageNumber = 1,
        status: StatusFilter = None,
        financial_status: FinancialFilter = None,
        fulfillment_status: FulfillmentFilter = None,
        created_at_min: CreatedMin = None,
        created_at_max: CreatedMax = None,
        updated_at_min: UpdatedMin = None,
        updated_at_max: UpdatedMax = None,
    ) -> Response[ShoplazzaOrderList]:
        times = (created_at_min, created_at_max, updated_at_min, updated_at_max)
        where = _search(status, financial_status, fulfillment_status, times)
        if where is None:
            return answer(request, ShoplazzaOrderList(0, []))
        try:
            found = await use_cases.orders.search(principal, where, offset=(page - 1) * limit, limit=limit)
        except InvalidInput as exc:
            if exc.field != "offset":
                raise
            raise InvalidInput("page", f"(page - 1) x limit must be at most {MAX_OFFSET}", "out-of-range") from None
        count = await use_cases.orders.count(principal, where)
        return answer(request, ShoplazzaOrderList(count, [ShoplazzaOrder.of(order) for order in found]))

    @get(
        "/count",
        **needs(Scope.READ_ORDER),
        operation_id="shoplazzaCountOrders",
        summary="Count Orders (Shoplazza)",
        responses={**_ok(ShoplazzaCount, "how many orders match", COUNT_EXAMPLE), **_errors()},
    )
    async def count_orders(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        principal: Caller,
        status: StatusFilter = None,
        financial_status: FinancialFilter = None,
        fulfillment_status: FulfillmentFilter = None,
        created_at_min: CreatedMin = None,
        created_at_max: CreatedMax = None,
        updated_at_min: UpdatedMin = None,
        updated_at_max: UpdatedMax = None,
    ) -> Response[ShoplazzaCount]:
        times = (created_at_min, created_at_max, updated_at_min, updated_at_max)
        where = _search(status, financial_status, fulfillment_status, times)
        count = 0 if where is None else await use_cases.orders.count(principal, where)
        return answer(request, ShoplazzaCount(count))

    @get(
        "/{order_id:uuid}",
        **needs(Scope.READ_ORDER),
        operation_id="shoplazzaGetOrder",
        summary="Get Order (Shoplazza)",
        responses={**_ok(ShoplazzaOrder, "the order", ORDER_EXAMPLE), **_errors(404)},
    )
    async def get_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[ShoplazzaOrder]:
        return answer(request, ShoplazzaOrder.of(await use_cases.orders.get(principal, order_id)))

    @post(
        "/{order_id:uuid}/cancel",
        **needs(Scope.WRITE_ORDER),
        status_code=200,
        operation_id="shoplazzaCancelOrder",
        summary="Cancel Order (Shoplazza)",
        description="Cancels an opened or placed (unshipped) order: 200 with the order, status cancelled. A paid "
        "order's money is refunded: financial_status refunding until the refund settles, then refunded. "
        "An order already cancelling answers as it is; shipped, finished or cancelled ones are 406.",
        responses={**_ok(ShoplazzaOrder, "the cancelled order", ORDER_EXAMPLE), **_errors(404, 406, 409, 413, 415)},
    )
    async def cancel_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
        data: Annotated[
            ShoplazzaCancelIn | None,
            Body(description="optional: {reason}", examples=body_examples(reason=CANCEL_BODY_EXAMPLE)),
        ] = None,
    ) -> Response[ShoplazzaOrder]:
        reason = None if data is None else data.reason
        command = CancelOrder(order_id, CancelReason.OTHER if reason else CancelReason.CUSTOMER_REQUEST, reason or None)
        return answer(request, ShoplazzaOrder.of(await use_cases.orders.cancel(principal, command)))

    @delete(
        "/{order_id:uuid}",
        **needs(Scope.WRITE_ORDER),
        status_code=200,
        operation_id="shoplazzaDeleteOrder",
        summary="Delete Order (Shoplazza)",
        description="Erases the order, whatever its status: its lines go, reserved stock is released, the voucher "
        "use given back; payments keep their money facts. Reading it afterwards is 404.",
        responses={**_ok(ShoplazzaDeleted, "the order is gone", {"message": DELETED}), **_errors(404, 409)},
    )
    async def delete_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[UUID],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[ShoplazzaDeleted]:
        await use_cases.orders.erase(principal, order_id)
        return answer(request, ShoplazzaDeleted(DELETED))
