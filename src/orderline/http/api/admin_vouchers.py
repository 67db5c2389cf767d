"""Admin voucher routes: /v1/admin/vouchers — create, list, read, remove."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Body, PathParameter
from litestar.response import Response

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.domain.errors import InvalidVoucher
from orderline.domain.money import Money
from orderline.domain.voucher import CODE_PATTERN, MAX_USES, Voucher
from orderline.http.access import needs
from orderline.http.api.wire import CurrencyCode, Cursor, Limit, PageOut, PositiveDecimalString, Timestamp
from orderline.http.dependencies import Caller, Injected
from orderline.http.document import absent, all_of, present
from orderline.http.openapi import body_examples, problems, success
from orderline.http.wire import in_utc

VOUCHER_EXAMPLE = {
    "id": "019b4141-0000-7000-8000-0000000000aa",
    "code": "SPRING10",
    "percentOff": 10,
    "amountOff": None,
    "currency": None,
    "minSubtotal": None,
    "maxUses": 100,
    "uses": 3,
    "expiresAt": "2026-06-01T00:00:00Z",
    "createdAt": "2026-03-01T09:00:00Z",
}


Code = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        pattern=CODE_PATTERN,
        description="3 to 32 letters, digits, '_' or '-', starting with a letter or digit; any case, "
        "surrounding whitespace ignored; kept in upper case",
    ),
]


class VoucherIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """``percentOff``, or ``amountOff`` with its ``currency``; optionally ``minSubtotal`` (in that ``currency``)."""

    code: Code
    percent_off: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    amount_off: PositiveDecimalString | None = None
    currency: CurrencyCode | None = None
    max_uses: Annotated[int, msgspec.Meta(ge=1, le=MAX_USES)] | None = None
    expires_at: Timestamp | None = None
    min_subtotal: PositiveDecimalString | None = None  # the least subtotal an order needs, in `currency`

    openapi_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            all_of(present("percentOff"), absent("amountOff"), absent("currency"), absent("minSubtotal")),
            all_of(present("percentOff"), absent("amountOff"), present("currency"), present("minSubtotal")),
            all_of(present("amountOff"), present("currency"), absent("percentOff")),
        ]
    }

    def draft(self) -> VoucherDraft:
        amount = minimum = None
        if self.currency is None:
            if self.amount_off is not None or self.min_subtotal is not None:
                named = "amountOff" if self.amount_off is not None else "minSubtotal"
                raise InvalidVoucher(f"{named} needs its currency", field="currency")
        elif self.amount_off is None and self.min_subtotal is None:
            raise InvalidVoucher("currency goes with amountOff or minSubtotal only", field="currency")
        else:
            amount = None if self.amount_off is None else Money.parse(self.amount_off, self.currency)
            minimum = None if self.min_subtotal is None else Money.parse(self.min_subtotal, self.currency)
        expires_at = in_utc(self.expires_at, "expiresAt")
        return VoucherDraft(self.code, self.percent_off, amount, self.max_uses, expires_at, minimum)


CodeInPath = Annotated[str, PathParameter(max_length=64, pattern=CODE_PATTERN, description="the voucher's code")]


class VoucherOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    code: str
    percent_off: int | None
    amount_off: str | None
    currency: str | None
    min_subtotal: str | None
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, voucher: Voucher) -> VoucherOut:
        amount, minimum = voucher.amount_off, voucher.min_subtotal
        worth = amount or minimum
        return cls(
            id=voucher.id,
            code=voucher.code,
            percent_off=voucher.percent_off,
            amount_off=None if amount is None else str(amount),
            currency=None if worth is None else worth.currency,
            min_subtotal=None if minimum is None else str(minimum),
            max_uses=voucher.max_uses,
            uses=voucher.uses,
            expires_at=voucher.expires_at,
            created_at=voucher.created_at,
        )


class AdminVoucherController(Controller):
    path = "/admin/vouchers"
    tags = ("Admin",)

    @post(
        "/",
        **needs(Scope.ADMIN),
        operation_id="createVoucher",
        summary="Create a voucher",
        responses=success(201, VoucherOut, VOUCHER_EXAMPLE, "the voucher")
        | problems("unauthorized", "forbidden", "invalid-voucher", "voucher-exists", "invalid-amount",
                   "unknown-currency", "unsupported-media-type"),
    )  # fmt: skip
    async def create(
        self,
        data: Annotated[
            VoucherIn, Body(examples=body_examples(ten_percent={"code": "SPRING10", "percentOff": 10, "maxUses": 100}))
        ],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[VoucherOut]:
        voucher = await use_cases.vouchers.create(principal, data.draft())
        location = f"/v1/admin/vouchers/{voucher.code}"
        return Response(VoucherOut.of(voucher), status_code=201, headers={"Location": location})

    @get(
        "/",
        **needs(Scope.ADMIN),
        operation_id="listVouchers",
        summary="List vouchers",
        responses=success(200, PageOut[VoucherOut], {"data": [VOUCHER_EXAMPLE], "nextCursor": None}, "vouchers")
        | problems("unauthorized", "forbidden"),
    )
    async def list(
        self, use_cases: Injected[UseCases], principal: Caller, limit: Limit = 20, cursor: Cursor = None
    ) -> PageOut[VoucherOut]:
        page = await use_cases.vouchers.list(principal, limit=limit, cursor=cursor)
        return PageOut([VoucherOut.of(voucher) for voucher in page.items], page.next_cursor)

    @get(
        "/{code:str}",
        **needs(Scope.ADMIN),
        operation_id="getVoucher",
        summary="Get a voucher and its uses",
        responses=success(200, VoucherOut, VOUCHER_EXAMPLE, "the voucher")
        | problems("unauthorized", "forbidden", "not-found", "invalid-voucher"),
    )
    async def read(self, code: CodeInPath, use_cases: Injected[UseCases], principal: Caller) -> VoucherOut:
        return VoucherOut.of(await use_cases.vouchers.get(principal, code))

    @delete(
        "/{code:str}",
        **needs(Scope.ADMIN),
        operation_id="deleteVoucher",
        summary="Remove a voucher",
        description="New orders can no longer use it; orders that did keep it.",
        responses=problems("unauthorized", "forbidden", "not-found", "invalid-voucher"),
    )
    async def remove(self, code: CodeInPath, use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.vouchers.remove(principal, code)
