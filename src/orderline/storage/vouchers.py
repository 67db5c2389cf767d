"""Vouchers in SQL: by code or id, optimistic saves of their use count, soft removal, keyset lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from orderline.application.errors import DuplicateVoucher
from orderline.domain.money import Money
from orderline.domain.voucher import Voucher
from orderline.storage.driver import Connection, Row, UniqueViolation
from orderline.storage.keys import found, key_of
from orderline.storage.rows import as_datetime, as_opt_datetime, as_uuid
from orderline.storage.versions import Seen

_COLUMNS = (
    "id, code, percent_off, amount_off_minor, currency, max_uses, uses, expires_at, version, created_at,"
    " min_subtotal_minor"
)

# One voucher by its key, its tenant compared outside (storage/keys.py, ADR 0045): never by (tenant_id, code).
_KEY = key_of("vouchers")
_BY_ID = found("vouchers", _COLUMNS)
_LOCKED = f"SELECT {_COLUMNS} FROM vouchers WHERE id = {_KEY}"  # noqa: S608
_SAVE = f"UPDATE vouchers SET uses = :uses, version = :version WHERE id = {_KEY} AND version = :expected"  # noqa: S608


class SqlVoucherRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self._seen = Seen()

    async def get(self, voucher_id: UUID, *, for_update: bool = False) -> Voucher | None:
        """Removed vouchers included: an order placed with one still gives its use back."""
        sql = _LOCKED + self._db.for_update() if for_update else _BY_ID
        row = await self._db.fetch_one(sql, {"id": voucher_id, "tenant": self._tenant})
        return None if row is None else self._loaded(_voucher(row))

    async def get_by_code(self, code: str, *, for_update: bool = False) -> Voucher | None:
        lock = self._db.for_update() if for_update else ""
        sql = f"SELECT {_COLUMNS} FROM vouchers WHERE tenant_id = :tenant AND code = :code AND removed_at IS NULL{lock}"  # noqa: S608
        row = await self._db.fetch_one(sql, {"code": code, "tenant": self._tenant})
        return None if row is None else self._loaded(_voucher(row))

    async def add(self, voucher: Voucher) -> None:
        sql = f"""INSERT INTO vouchers ({_COLUMNS}, removed_at, tenant_id)
                  VALUES (:id, :code, :percent_off, :amount_off_minor, :currency, :max_uses, :uses, :expires_at,
                          :version, :created_at, :min_subtotal_minor, NULL, :tenant)"""  # noqa: S608
        try:
            await self._db.execute(sql, {**_params(voucher), "tenant": self._tenant})
        except UniqueViolation:
            raise DuplicateVoucher(voucher.code) from None
        self._seen.remember(voucher.id, voucher.version)

    async def save(self, voucher: Voucher) -> None:
        expected = self._seen.version_of(voucher.id)
        changed = await self._db.execute(
            _SAVE,
            {"id": voucher.id, "uses": voucher.uses, "version": voucher.version, "expected": expected}
            | {"tenant": self._tenant},
        )
        self._seen.saved(voucher.id, voucher.version, changed=changed, what=f"voucher {voucher.code}")

    def _loaded(self, voucher: Voucher) -> Voucher:
        self._seen.remember(voucher.id, voucher.version)
        return voucher

    async def remove(self, code: str, now: datetime) -> bool:
        sql = "UPDATE vouchers SET removed_at = :now WHERE tenant_id = :tenant AND code = :code AND removed_at IS NULL"
        return await self._db.execute(sql, {"code": code, "now": now, "tenant": self._tenant}) == 1

    async def find(self, limit: int, after_id: UUID | None) -> list[Voucher]:
        after = "AND id > :after" if after_id is not None else ""
        sql = f"SELECT {_COLUMNS} FROM vouchers WHERE tenant_id = :tenant AND removed_at IS NULL {after} ORDER BY id LIMIT :limit"  # noqa: S608,E501
        params: dict[str, Any] = {"limit": limit + 1, "tenant": self._tenant}
        params |= {"after": after_id} if after_id is not None else {}
        return [_voucher(row) for row in await self._db.fetch_all(sql, params)]


def _params(voucher: Voucher) -> dict[str, Any]:
    amount, minimum = voucher.amount_off, voucher.min_subtotal
    worth = amount or minimum
    return {
        "id": voucher.id,
        "code": voucher.code,
        "percent_off": voucher.percent_off,
        "amount_off_minor": None if amount is None else amount.amount_minor,
        "currency": None if worth is None else worth.currency,
        "min_subtotal_minor": None if minimum is None else minimum.amount_minor,
        "max_uses": voucher.max_uses,
        "uses": voucher.uses,
        "expires_at": voucher.expires_at,
        "version": voucher.version,
        "created_at": voucher.created_at,
    }


def _voucher(row: Row) -> Voucher:
    amount, minimum = row["amount_off_minor"], row["min_subtotal_minor"]
    return Voucher(
        id=as_uuid(row["id"]),
        code=row["code"],
        percent_off=row["percent_off"],
        amount_off=None if amount is None else Money(int(amount), row["currency"]),
        max_uses=row["max_uses"],
        expires_at=as_opt_datetime(row["expires_at"]),
        created_at=as_datetime(row["created_at"]),
        uses=row["uses"],
        version=row["version"],
        min_subtotal=None if minimum is None else Money(int(minimum), row["currency"]),
    )
