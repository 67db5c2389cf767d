"""Voucher use cases (admin): create, list, read and remove vouchers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.errors import NotFound
from orderline.application.pagination import Page, decode_id_cursor, page_of
from orderline.application.principal import Principal, Scope
from orderline.application.use_case import UseCase
from orderline.domain.money import Money
from orderline.domain.voucher import Voucher, check_code

_CURSOR = "vouchers"


@dataclass(frozen=True, slots=True)
class VoucherDraft:
    code: str
    percent_off: int | None = None
    amount_off: Money | None = None
    max_uses: int | None = None
    expires_at: datetime | None = None
    min_subtotal: Money | None = None


class Vouchers(UseCase):
    async def create(self, principal: Principal, draft: VoucherDraft) -> Voucher:
        principal.require(Scope.ADMIN)
        voucher = Voucher(
            id=self._ids.new_id(),
            code=check_code(draft.code),
            percent_off=draft.percent_off,
            amount_off=draft.amount_off,
            max_uses=draft.max_uses,
            expires_at=draft.expires_at,
            created_at=self._clock.now(),
            min_subtotal=draft.min_subtotal,
        )
        created = {"code": voucher.code, "percentOff": voucher.percent_off,
                   "amountOff": None if voucher.amount_off is None else str(voucher.amount_off),
                   "minSubtotal": None if voucher.min_subtotal is None else str(voucher.min_subtotal)}  # fmt: skip
        async with self._db.transaction(principal.tenant) as uow:
            await uow.vouchers.add(voucher)
            record = Record(Action.VOUCHER_CREATED, EntityType.VOUCHER, voucher.id, changes({}, created))
            await self._record(uow, principal, record)
            await uow.commit()
        return voucher

    async def get(self, principal: Principal, code: str) -> Voucher:
        principal.require(Scope.ADMIN)
        async with self._db.snapshot(principal.tenant) as uow:
            voucher = await uow.vouchers.get_by_code(check_code(code))
        if voucher is None:
            raise NotFound("voucher", code.upper())
        return voucher

    async def list(self, principal: Principal, *, limit: int, cursor: str | None = None) -> Page[Voucher]:
        principal.require(Scope.ADMIN)
        after = decode_id_cursor(_CURSOR, cursor) if cursor else None
        async with self._db.snapshot(principal.tenant) as uow:
            rows = await uow.vouchers.find(limit, after)
        return page_of(rows, limit, _CURSOR, lambda voucher: str(voucher.id))

    async def remove(self, principal: Principal, code: str) -> None:
        """New orders can no longer use it; orders that did keep it, and still give their use back."""
        principal.require(Scope.ADMIN)
        async with self._db.transaction(principal.tenant) as uow:
            voucher = await uow.vouchers.get_by_code(check_code(code), for_update=True)
            if voucher is None or not await uow.vouchers.remove(voucher.code, self._clock.now()):
                raise NotFound("voucher", code.upper())
            await self._record(uow, principal, Record(Action.VOUCHER_REMOVED, EntityType.VOUCHER, voucher.id))
            await uow.commit()
