"""Bulk cancel route: /v1/orders/bulk-cancel — up to 100 orders, one outcome each (ADR 0023)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, post
from litestar.params import Body
from litestar.response import Response

from orderline.application.idempotency import KeyClaim
from orderline.application.orders import MAX_BULK_CANCEL, BulkCancel, BulkCancelResult, BulkOutcome
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.order import CancelReason
from orderline.domain.status import OrderStatus
from orderline.http.access import needs
from orderline.http.api.examples import BULK_CANCEL_EXAMPLE, BULK_CANCEL_IN_EXAMPLE
from orderline.http.api.order_wire import Note
from orderline.http.dependencies import Caller, Injected
from orderline.http.idempotency import IdempotencyKey, idempotent
from orderline.http.openapi import body_examples, problems, success

OrderIds = Annotated[
    list[UUID],
    msgspec.Meta(
        min_length=1,
        max_length=MAX_BULK_CANCEL,
        description=f"1 to {MAX_BULK_CANCEL} order ids, each once",
        extra_json_schema={"uniqueItems": True},
    ),
]


class BulkCancelIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    ids: OrderIds
    reason: CancelReason
    note: Note | None = None


class BulkResultOut(msgspec.Struct, rename="camel"):
    id: UUID
    outcome: BulkOutcome
    status: OrderStatus | None  # after the attempt; null when NOT_FOUND


class BulkCancelOut(msgspec.Struct, rename="camel"):
    results: list[BulkResultOut]

    @classmethod
    def of(cls, results: list[BulkCancelResult]) -> BulkCancelOut:
        return cls([BulkResultOut(result.order_id, result.outcome, result.status) for result in results])


def _answer(results: list[BulkCancelResult]) -> Response[Any]:
    return Response(BulkCancelOut.of(results), status_code=200)


class BulkCancelController(Controller):
    path = "/orders/bulk-cancel"
    tags = ("Store",)

    @post(
        "/",
        **needs(Scope.WRITE_ORDERS),
        status_code=200,
        operation_id="bulkCancelOrders",
        summary="Cancel several orders",
        description=f"Cancels each of 1 to {MAX_BULK_CANCEL} orders as Cancel Order with a reason does, each on its "
        "own, and answers one result per id in the order given: CANCELLED, CANCEL_PENDING (its refund is "
        "pending; a second cancel starts nothing new), NOT_CANCELLABLE (with the status that prevents it) or "
        "NOT_FOUND (unknown, or not yours). One refusal does not stop the others. If the database fails part "
        "way, the answer is 503 and the cancels before it stand; repeat the request to learn every outcome.",
        responses={
            **success(200, BulkCancelOut, BULK_CANCEL_EXAMPLE, "one result per id, in the order given"),
            **problems("unauthorized", "forbidden", "idempotency-key-reused", "idempotency-key-in-use",
                       "unsupported-media-type"),
        },
    )  # fmt: skip
    async def bulk_cancel(
        self,
        data: Annotated[BulkCancelIn, Body(examples=body_examples(duplicates=BULK_CANCEL_IN_EXAMPLE))],
        use_cases: Injected[UseCases],
        principal: Caller,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        # Each cancel commits on its own, so the key is completed once all have run (see ADR 0023).
        async def cancel(_claim: KeyClaim[list[BulkCancelResult]] | None) -> list[BulkCancelResult]:
            return await use_cases.orders.bulk_cancel(principal, BulkCancel(data.ids, data.reason, data.note))

        return await idempotent(request, use_cases, idempotency_key, cancel, _answer)
