"""Editing an open order over HTTP: /v1/orders/{id}/items/{itemId} (take an item, or some of its units, off
the order) and /v1/orders/{id}/billing-address. The rules live in application.order_edits (ADR 0022)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, post, put
from litestar.params import Body, FromPath, PathParameter
from litestar.response import Response

from orderline.application.idempotency import KeyClaim
from orderline.application.order_edits import RemoveLine
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.order import MAX_QUANTITY, CancelReason, Order
from orderline.http.access import needs
from orderline.http.api.examples import CANCEL_PENDING_EXAMPLE, EDITED_EXAMPLE
from orderline.http.api.order_wire import AddressIn, Note, OrderOut, cancel_answer
from orderline.http.dependencies import Caller, Injected
from orderline.http.idempotency import IdempotencyKey, idempotent
from orderline.http.openapi import body_examples, problems, success
from orderline.http.preconditions import IfMatch, etag, version_in

# An item id is a line number within its order (1, 2, 3 …); the bound is the INTEGER column's.
ItemId = Annotated[int, PathParameter(ge=1, le=2_147_483_647, description="the item's id within the order")]

_ADDRESS = {"line1": "2 High St", "city": "Oxford", "postalCode": "OX1 1AA", "country": "GB"}
_EDITED = "the order as it now is: items, totals and version changed"
_LAST = "the last units went: the order was cancelled through the cancel path; 202 while its refund is pending"


class ItemCancelIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY, description="units to take off, 1 to the item's")]
    reason: CancelReason
    note: Note | None = None


def _edit_problems(*more: str) -> dict[int, Any]:
    return problems("not-found", "order-not-editable", "precondition-failed", "concurrent-modification",
                    "unauthorized", "forbidden", "idempotency-key-reused", "idempotency-key-in-use", *more)  # fmt: skip


class OrderItemController(Controller):
    path = "/orders/{order_id:uuid}"
    tags = ("Store",)

    @delete(
        "/items/{item_id:int}",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="removeOrderItem",
        summary="Remove an item from an open order",
        description="Takes a whole item off a PLACED or APPROVED order: its stock is released, the order priced "
        "again (the voucher re-applied, or released when its minimum no longer holds) and, when paid, the "
        "difference refunded as a partial refund. Taking the last item cancels the order. Other statuses: 409.",
        responses={
            **success(200, OrderOut, EDITED_EXAMPLE, _EDITED),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, _LAST),
            **_edit_problems(),
        },
    )
    async def remove(
        self,
        order_id: FromPath[UUID],
        item_id: ItemId,
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        async def remove(claim: KeyClaim[Order] | None) -> Order:
            command = RemoveLine(order_id, item_id, expected_version=version_in(if_match, order_id))
            return await use_cases.order_edits.remove_line(principal, command, claim)

        return await idempotent(request, use_cases, idempotency_key, remove, cancel_answer)

    @post(
        "/items/{item_id:int}/cancel",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="cancelOrderItemUnits",
        summary="Cancel some units of an item of an open order",
        description="Takes `quantity` units (1 to the item's quantity) off an item of a PLACED or APPROVED "
        "order, with a reason, as removing an item does; the item goes when none are left.",
        responses={
            **success(200, OrderOut, EDITED_EXAMPLE, _EDITED),
            **success(202, OrderOut, CANCEL_PENDING_EXAMPLE, _LAST),
            **_edit_problems("unsupported-media-type"),
        },
    )
    async def cancel_units(
        self,
        order_id: FromPath[UUID],
        item_id: ItemId,
        data: Annotated[
            ItemCancelIn,
            Body(examples=body_examples(one_unit={"quantity": 1, "reason": "OUT_OF_STOCK", "note": "one is ill"})),
        ],
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        async def cancel(claim: KeyClaim[Order] | None) -> Order:
            expected = version_in(if_match, order_id)
            command = RemoveLine(order_id, item_id, data.quantity, data.reason, data.note, expected)
            return await use_cases.order_edits.remove_line(principal, command, claim)

        return await idempotent(request, use_cases, idempotency_key, cancel, cancel_answer)

    @put(
        "/billing-address",
        **needs(Scope.WRITE_ORDERS),
        operation_id="changeOrderBillingAddress",
        summary="Change the billing address of a placed order",
        description="Only while the order is PLACED (a paid order keeps the address it was paid with): 409 "
        "otherwise. The old address is kept as a row of its own, no longer linked.",
        responses={
            **success(200, OrderOut, EDITED_EXAMPLE, "the order with its new billing address"),
            **problems("not-found", "order-not-editable", "precondition-failed", "invalid-address", "unauthorized",
                       "forbidden", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def change_billing_address(
        self,
        order_id: FromPath[UUID],
        data: Annotated[AddressIn, Body(examples=body_examples(oxford=_ADDRESS))],
        use_cases: Injected[UseCases],
        principal: Caller,
        if_match: IfMatch = None,
    ) -> Response[OrderOut]:
        expected = version_in(if_match, order_id)
        order = await use_cases.order_edits.change_billing_address(principal, order_id, data.address(), expected)
        return Response(OrderOut.of(order), headers={"ETag": etag(order)})
