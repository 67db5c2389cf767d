"""The receipt route: GET /v1/receipts/{receiptId}, where a payment.succeeded event's receiptUrl points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get
from litestar.params import PathParameter

from orderline.application.payments import Receipt
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.http.access import needs
from orderline.http.api.examples import ORDER_ID, PAYMENT_EXAMPLE, PAYMENT_ID
from orderline.http.api.payments import PaymentOut
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import problems, success

_RECEIPT_ID = "rcp_" + UUID(PAYMENT_ID).hex
# Any other text names no receipt: 404, as an unknown one is.
ReceiptId = Annotated[
    str,
    PathParameter(
        max_length=64,
        description="rcp_ and the payment's id as 32 hex digits",
        schema_extra={"pattern": "^rcp_[0-9a-f]{32}$", "examples": [_RECEIPT_ID]},
    ),
]

RECEIPT_EXAMPLE: dict[str, Any] = {
    "receiptId": _RECEIPT_ID,
    "receiptUrl": f"http://127.0.0.1:8000/v1/receipts/{_RECEIPT_ID}",
    "generatedAt": "2026-01-31T12:00:03Z",
    "orderId": ORDER_ID,
    "orderNumber": "1001",
    "payment": {**PAYMENT_EXAMPLE, "refunds": []},
}


class ReceiptOut(msgspec.Struct, rename="camel", kw_only=True):
    receipt_id: str
    receipt_url: str
    generated_at: Annotated[datetime, msgspec.Meta(description="when the payment succeeded")]
    order_id: UUID
    order_number: Annotated[str | None, msgspec.Meta(description="null once the order was erased")]
    payment: PaymentOut

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptOut:
        return cls(
            receipt_id=receipt.receipt_id,
            receipt_url=receipt.url,
            generated_at=receipt.generated_at,
            order_id=receipt.payment.order_id,
            order_number=receipt.order_number,
            payment=PaymentOut.of(receipt.payment),
        )


@get(
    "/receipts/{receipt_id:str}",
    **needs(Scope.READ_ORDERS),
    operation_id="getReceipt",
    summary="Get a payment's receipt",
    tags=("Payments",),
    description="The receipt of a SUCCEEDED payment, where its payment.succeeded event's receiptUrl points. "
    "Its order's owner or an admin may read it; anything else, or an id that names no successful payment, "
    "is 404.",
    responses={
        **success(200, ReceiptOut, RECEIPT_EXAMPLE, "the receipt"),
        **problems("not-found", "unauthorized", "forbidden"),
    },
)
async def receipt(receipt_id: ReceiptId, use_cases: Injected[UseCases], principal: Caller) -> ReceiptOut:
    return ReceiptOut.of(await use_cases.payments.receipt(principal, receipt_id))
