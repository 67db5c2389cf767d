"""Admin order routes: every customer's orders, force-cancel, ship, deliver, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Response, Stream

from orderline.application.orders import CancelOrder, OrderFilter
from orderline.application.principal import Principal, Scope
from orderline.application.use_cases import UseCases
from orderline.domain.order import CancelReason, Order
from orderline.domain.status import OrderStatus
from orderline.http.access import needs
from orderline.http.api.examples import CANCEL_EXAMPLE, CANCEL_PENDING_EXAMPLE, ORDER_EXAMPLE, ORDER_PAGE_EXAMPLE
from orderline.http.api.order_wire import Note, OrderOut, cancel_answer
from orderline.http.api.wire import CreatedAfter, CreatedBefore, Cursor, Limit, PageOut
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success
from orderline.http.preconditions import IfMatch, version_in
from orderline.http.wire import in_utc

EXPORT_BATCH = 500
CSV_COLUMNS = (
    "id",
    "number",
    "status",
    "userId",
    "totalAmount",
    "currency",
    "items",
    "createdAt",
    "cancelledAt",
    "cancelReason",
)

CSV_EXAMPLE = (
    "id,number,status,userId,totalAmount,currency,items,createdAt,cancelledAt,cancelReason\r\n"
    "019b4139-1234-7abc-8def-123456789abc,1001,PLACED,,150.00,USD,019b4132-70aa-764f-b315-e2803d882a24x1,"
    "2025-12-21T13:56:23+00:00,,\r\n"
)
UserId = Annotated[UUID | None, QueryParameter(name="userId")]


class ForceCancelIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    reason: CancelReason
    note: Note | None = None


class AdminOrderController(Controller):
    path = "/admin/orders"
    tags = ("Admin",)

    @get(
        "/",
        **needs(Scope.SUPPORT),
        operation_id="listAllOrders",
        summary="List All Orders",
        responses=success(200, PageOut[OrderOut], ORDER_PAGE_EXAMPLE, "a page of every customer's orders")
        | problems("unauthorized", "forbidden"),
    )
    async def list(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        status: FromQuery[OrderStatus | None] = None,
        user_id: UserId = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[OrderOut]:
        where = OrderFilter(
            status, in_utc(created_after, "createdAfter"), in_utc(created_before, "createdBefore"), user_id
        )
        page = await use_cases.orders.list_all(principal, where, limit=limit, cursor=cursor)
        return PageOut([OrderOut.of(order) for order in page.items], page.next_cursor)

    @get(
        "/export",
        **needs(Scope.ADMIN),
        operation_id="exportOrders",
        summary="Export orders as CSV",
        description="Streams every order matching the filters, newest first, page by page; nothing "
        "holds the whole export in memory.",
        media_type="text/csv",
        responses=success(200, str, CSV_EXAMPLE, "the orders, one CSV row each", "text/csv")
        | problems("unauthorized", "forbidden"),
    )
    async def export(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        format: FromQuery[Literal["csv"]] = "csv",
        status: FromQuery[OrderStatus | None] = None,
        user_id: UserId = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
    ) -> Stream:
        principal.require(Scope.ADMIN)  # before the stream starts: a refusal must be a problem, not a cut file
        where = OrderFilter(
            status, in_utc(created_after, "createdAfter"), in_utc(created_before, "createdBefore"), user_id
        )
        headers = {"Content-Disposition": 'attachment; filename="orders.csv"'}
        return Stream(_csv(use_cases, principal, where), media_type="text/csv; charset=utf-8", headers=headers)

    @post(
        "/{order_id:uuid}/force-cancel",
        **needs(Scope.SUPPORT),
        status_code=200,
        operation_id="forceCancelOrder",
        summary="Force Cancel Order",
        description="Cancels a PLACED, APPROVED or SHIPPED order with a required reason, refunding any payment: "
        "200 once CANCELLED, 202 while an asynchronous refund is pending (CANCEL_PENDING).",
        responses=success(200, OrderOut, CANCEL_EXAMPLE, "the cancelled order")
        | success(202, OrderOut, CANCEL_PENDING_EXAMPLE, "the cancel waits for the refund (CANCEL_PENDING)")
        | problems(
            "unauthorized",
            "forbidden",
            "not-found",
            "order-not-cancellable",
            "precondition-failed",
            "unsupported-media-type",
        ),
    )
    async def force_cancel(
        self,
        order_id: FromPath[UUID],
        data: Annotated[ForceCancelIn, Body(examples=body_examples(fraud={"reason": "FRAUD", "note": "chargeback"}))],
        use_cases: Injected[UseCases],
        principal: Caller,
        if_match: IfMatch = None,
    ) -> Response[Any]:
        command = CancelOrder(order_id, data.reason, data.note, version_in(if_match, order_id))
        return cancel_answer(await use_cases.orders.cancel(principal, command, force=True))

    @delete(
        "/{order_id:uuid}",
        **needs(Scope.ADMIN),
        operation_id="eraseOrder",
        summary="Erase an order (hard delete)",
        description="Removes the order and its lines, releases stock it still reserves, gives its voucher use "
        "back, keeps its billing address row, and leaves an audit tombstone without personal data. "
        "A repeat is 404.",
        responses=problems("unauthorized", "forbidden", "not-found"),
    )
    async def erase(self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.orders.erase(principal, order_id)

    @post(
        "/{order_id:uuid}/ship",
        **needs(Scope.SUPPORT),
        status_code=200,
        operation_id="shipOrder",
        summary="Ship an approved order",
        responses=success(200, OrderOut, {**ORDER_EXAMPLE, "status": "SHIPPED"}, "the shipped order")
        | problems("unauthorized", "forbidden", "not-found", "illegal-transition", "precondition-failed"),
    )
    async def ship(
        self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller, if_match: IfMatch = None
    ) -> OrderOut:
        return OrderOut.of(
            await use_cases.orders.ship(principal, order_id, expected_version=version_in(if_match, order_id))
        )

    @post(
        "/{order_id:uuid}/deliver",
        **needs(Scope.SUPPORT),
        status_code=200,
        operation_id="deliverOrder",
        summary="Confirm delivery of a shipped order",
        responses=success(200, OrderOut, {**ORDER_EXAMPLE, "status": "DELIVERED"}, "the delivered order")
        | problems("unauthorized", "forbidden", "not-found", "illegal-transition", "precondition-failed"),
    )
    async def deliver(
        self, order_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller, if_match: IfMatch = None
    ) -> OrderOut:
        version = version_in(if_match, order_id)
        return OrderOut.of(await use_cases.orders.deliver(principal, order_id, expected_version=version))


async def _csv(use_cases: Injected[UseCases], principal: Principal, where: OrderFilter) -> AsyncIterator[str]:
    yield _row(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        page = await use_cases.orders.list_all(principal, where, limit=EXPORT_BATCH, cursor=cursor)
        yield "".join(_row(_fields(order)) for order in page.items)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _fields(order: Order) -> tuple[object, ...]:
    items = ";".join(f"{line.pet_id}x{line.quantity}" for line in order.lines)
    return (order.id, order.number, order.status, order.customer_id or "", order.total, order.currency, items,
            order.created_at.isoformat(), order.cancelled_at.isoformat() if order.cancelled_at else "",
            order.cancel_reason or "")  # fmt: skip


def _row(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
