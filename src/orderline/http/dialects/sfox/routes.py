"""sFOX's order routes under /sfox/v1: cancel one, cancel many, open orders, one order (ADR 0025).

Each parses sFOX's request, calls the use case the native API calls, and writes sFOX's answer; the rules
(who may see an order, what may be cancelled, refunds) are the core's.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, delete, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import PathParameter, QueryParameter

from orderline.application.orders import MAX_BULK_CANCEL, BulkCancel, BulkOutcome, CancelOrder
from orderline.application.pagination import MAX_OFFSET, MAX_OFFSET_LIMIT, MAX_SEQ
from orderline.application.principal import Scope
from orderline.application.queries import OrderSearch
from orderline.application.use_cases import UseCases
from orderline.domain.errors import OrderNotCancellable
from orderline.http.access import needs
from orderline.http.dependencies import Caller, Injected
from orderline.http.dialects.sfox.errors import IDS_REFUSED, NONE_QUALIFY, NOT_CANCELED, SfoxRefusal, error_specs
from orderline.http.dialects.sfox.ids import seq_in, seqs_in
from orderline.http.dialects.sfox.mapping import ALREADY_FINISHED, BULK_ANSWERS, CANCEL_ANSWERS, OPEN
from orderline.http.dialects.sfox.wire import (
    BULK_EXAMPLE,
    ORDER_EXAMPLE,
    SfoxBulkCancelOut,
    SfoxCancelledOrderOut,
    SfoxCancelOut,
    SfoxOrderOut,
    json_response,
)

OrderId = Annotated[
    str,
    PathParameter(
        description="the order's integer id; one that is not an order in your account is 400 internal error",
        schema_extra={"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_SEQ},
    ),
]
# The pattern is documented, not enforced by Litestar: the route reads the list itself and words its refusal.
Ids = Annotated[
    str,
    QueryParameter(
        description=f"1 to {MAX_BULK_CANCEL} order ids, comma-separated, such as 1,2,3",
        schema_extra={"pattern": rf"^ *[0-9]{{1,19}} *(, *[0-9]{{1,19}} *){{0,{MAX_BULK_CANCEL - 1}}}$"},
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_OFFSET_LIMIT, description="at most this many orders")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="skip this many orders first")]


# The orders a bulk answer lists: those the page calls "cancelled or began cancelling".
_BEGAN = (BulkOutcome.CANCELLED, BulkOutcome.CANCEL_PENDING)


def _success(container: Any, example: Any, description: str) -> dict[int, ResponseSpec]:
    spec = ResponseSpec(container, description=description, generate_examples=False,
                        examples=[Example(summary="example", value=example)])  # fmt: skip
    return {200: spec}


@delete(
    "/orders/{order_id:str}",
    **needs(Scope.WRITE_ORDERS),
    status_code=200,
    operation_id="sfoxCancelOrder",
    summary="Cancel Order",
    description='200 {"status": "canceled"} when it is cancelled now; "cancel pending" while its refund runs (asked '
    'again, the same, and nothing new starts); "order already finished" when it is shipped, delivered or cancelled. '
    "The key needs read:orders and write:orders.",
    responses={
        **_success(SfoxCancelOut, {"status": "canceled"}, "canceled, cancel pending, or order already finished"),
        **error_specs(400, 401, 403, 429, 500, 503),
    },
)
async def cancel_order(order_id: OrderId, use_cases: Injected[UseCases], principal: Caller) -> Response[bytes]:
    order = await use_cases.orders.get_by_seq(principal, seq_in(order_id))
    try:
        after = await use_cases.orders.cancel(principal, CancelOrder(order.id))
    except OrderNotCancellable:
        return json_response(SfoxCancelOut(ALREADY_FINISHED))
    if after.status not in CANCEL_ANSWERS:  # its refund was refused at once: the order is open again
        raise SfoxRefusal(NOT_CANCELED)
    return json_response(SfoxCancelOut(CANCEL_ANSWERS[after.status]))


@delete(
    "/orders",
    **needs(Scope.WRITE_ORDERS),
    status_code=200,
    operation_id="sfoxCancelOrders",
    summary="Cancel Multiple Orders",
    description="Cancels each order named in ids, as Cancel Order would, and lists those that were cancelled or "
    "began cancelling; 400 when none did. The key needs read:orders and write:orders.",
    responses={
        **_success(SfoxBulkCancelOut, BULK_EXAMPLE, "the orders that were cancelled or began cancelling"),
        **error_specs(400, 401, 403, 429, 500, 503),
    },
)
async def cancel_orders(ids: Ids, use_cases: Injected[UseCases], principal: Caller) -> Response[bytes]:
    seqs = seqs_in(ids, MAX_BULK_CANCEL)
    if seqs is None:
        raise SfoxRefusal(IDS_REFUSED)
    found = await use_cases.orders.ids_by_seq(principal, seqs)
    if not found:
        raise SfoxRefusal(NONE_QUALIFY)
    seq_of = {order_id: seq for seq, order_id in found.items()}
    results = await use_cases.orders.bulk_cancel(principal, BulkCancel([found[s] for s in seqs if s in found]))
    listed = []
    for result in results:
        answer = None if result.status is None else BULK_ANSWERS.get(result.status)
        if result.outcome in _BEGAN and answer is not None:  # (a refund refused at once leaves it open)
            listed.append(SfoxCancelledOrderOut(seq_of[result.order_id], answer))
    if not listed:
        raise SfoxRefusal(NONE_QUALIFY)
    return json_response(SfoxBulkCancelOut(listed))


@get(
    "/orders",
    **needs(Scope.READ_ORDERS),
    operation_id="sfoxListOpenOrders",
    summary="Get Open Orders",
    description="Your open orders (Started or Cancel Pending), newest first.",
    responses={
        **_success(list[SfoxOrderOut], [ORDER_EXAMPLE], "the open orders"),
        **error_specs(400, 401, 403, 429, 500, 503),
    },
)
async def open_orders(
    use_cases: Injected[UseCases], principal: Caller, limit: Limit = 100, offset: Offset = 0
) -> Response[bytes]:
    orders = await use_cases.orders.search(principal, OrderSearch(statuses=OPEN), offset=offset, limit=limit)
    return json_response([SfoxOrderOut.of(order) for order in orders])


@get(
    "/orders/{order_id:str}",
    **needs(Scope.READ_ORDERS),
    operation_id="sfoxGetOrder",
    summary="Get Order",
    responses={**_success(SfoxOrderOut, ORDER_EXAMPLE, "the order"), **error_specs(400, 401, 403, 429, 500, 503)},
)
async def get_order(order_id: OrderId, use_cases: Injected[UseCases], principal: Caller) -> Response[bytes]:
    order = await use_cases.orders.get_by_seq(principal, seq_in(order_id))
    return json_response(SfoxOrderOut.of(order))


ROUTES = [cancel_order, cancel_orders, open_orders, get_order]
