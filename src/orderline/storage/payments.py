"""Payments and refunds in SQL: the money facts of orders, the pending-refund queue, and holder erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from orderline.application.ports import RefundDue
from orderline.domain.money import Money
from orderline.domain.payment import Card, Payment, PaymentStatus, Refund, RefundStatus
from orderline.storage.driver import Connection, Row, Write
from orderline.storage.keys import found, key_of
from orderline.storage.rows import as_datetime, as_opt_datetime, as_uuid, from_json, to_json

_PAYMENT_COLUMNS = (
    "id, order_id, amount_minor, currency, status, gateway, reference, card, failure_code, failure_message,"
    " created_at, updated_at, card_token"
)
_REFUND_COLUMNS = (
    "id, payment_id, order_id, amount_minor, currency, status, reference, failure_message, requested_at, settled_at,"
    " partial"
)


_DUE_COLUMNS = (
    ", ".join(f"r.{name.strip()}" for name in _REFUND_COLUMNS.split(","))
    + ", p.reference AS charge_reference, r.tenant_id AS tenant_id"
)

# One payment or refund by its key, its tenant compared outside (storage/keys.py, ADR 0045): never by the
# (tenant_id, status, …) index of the money figures.
_PAYMENT_BY_ID = found("payments", _PAYMENT_COLUMNS)
_PAYMENT_LOCKED = f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = {key_of('payments')}"  # noqa: S608
_SAVE_PAYMENT = f"""UPDATE payments SET status = :status, reference = :reference, card = :card,
    failure_code = :failure_code, failure_message = :failure_message, updated_at = :updated_at
WHERE id = {key_of("payments")}"""  # noqa: S608
_REFUND_BY_ID = found("refunds", _REFUND_COLUMNS)
_REFUND_LOCKED = f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE id = {key_of('refunds')}"  # noqa: S608
_SAVE_REFUND = f"""UPDATE refunds SET status = :status, reference = :reference, failure_message = :failure_message,
    settled_at = :settled_at
WHERE id = {key_of("refunds")}"""  # noqa: S608


def _due(row: Row) -> RefundDue:
    return RefundDue(_refund(row), row["charge_reference"], as_uuid(row["tenant_id"]))


class SqlPaymentRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        # Each payment and refund this transaction loaded by id or wrote, as it last did: what its events tell.
        self.seen_payments: dict[UUID, Payment] = {}
        self.seen_refunds: dict[UUID, Refund] = {}
        # An order's payments and refunds as read under its lock, kept current by this transaction's own writes:
        # nobody else writes them while the lock is held, so reading them again would read the same.
        self._held: dict[UUID, tuple[list[Payment], list[Refund]]] = {}

    def hold(self, order_id: UUID, payments: Any, refunds: Any) -> None:
        """The order's payments and refunds, read with the order under its lock (JSON arrays of rows, or NULL)."""
        self._held[order_id] = (
            [_payment(row) for row in from_json(payments) or ()],
            [_refund(row) for row in from_json(refunds) or ()],
        )

    async def add(self, payment: Payment) -> None:
        sql = f"""INSERT INTO payments ({_PAYMENT_COLUMNS}, tenant_id)
                  VALUES (:id, :order_id, :amount_minor, :currency, :status, :gateway, :reference, :card,
                          :failure_code, :failure_message, :created_at, :updated_at, :card_token, :tenant)"""  # noqa: S608
        await self._db.write(Write(sql, {**_payment_params(payment), "tenant": self._tenant}))
        self.seen_payments[payment.id] = payment
        if payment.order_id in self._held:
            self._held[payment.order_id][0].append(payment)

    async def save(self, payment: Payment) -> None:
        params = {**_payment_params(payment), "tenant": self._tenant}
        await self._db.write(Write(_SAVE_PAYMENT, params, ("payments", payment.id)))
        self.seen_payments[payment.id] = payment
        if payment.order_id in self._held:
            _replace(self._held[payment.order_id][0], payment)

    async def get(self, payment_id: UUID, *, for_update: bool = False) -> Payment | None:
        sql = _PAYMENT_LOCKED + self._db.for_update() if for_update else _PAYMENT_BY_ID
        row = await self._db.fetch_one(sql, {"id": payment_id, "tenant": self._tenant})
        if row is None:
            return None
        payment = self.seen_payments[payment_id] = _payment(row)
        return payment

    async def of_order(self, order_id: UUID) -> list[Payment]:
        if order_id in self._held:
            return list(self._held[order_id][0])
        sql = f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = :order_id AND tenant_id = :tenant ORDER BY created_at, id"  # noqa: S608,E501
        return [_payment(row) for row in await self._db.fetch_all(sql, {"order_id": order_id, "tenant": self._tenant})]

    async def processing(self, started_before: datetime | None, limit: int) -> list[tuple[UUID, Payment]]:
        """PROCESSING payments started before ``started_before`` (None: all, for the sandbox, whose tenants' clocks
        may run ahead of real time), oldest first, each with its tenant: across tenants, for recovery, which acts
        on each in its own tenant (ADR 0040)."""
        before = "" if started_before is None else "AND created_at < :before"
        sql = f"""SELECT {_PAYMENT_COLUMNS}, tenant_id FROM payments
                  WHERE status = 'PROCESSING' {before} ORDER BY created_at, id LIMIT :limit"""  # noqa: S608
        params: dict[str, Any] = {"limit": limit}
        if started_before is not None:
            params["before"] = started_before
        rows = await self._db.fetch_all(sql, params)
        return [(as_uuid(row["tenant_id"]), _payment(row)) for row in rows]

    async def find(self, order_id: UUID, limit: int, after_id: UUID | None) -> list[Payment]:
        after = "AND id > :after" if after_id is not None else ""
        sql = f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = :order_id AND tenant_id = :tenant {after} ORDER BY id LIMIT :limit"  # noqa: S608,E501
        params: dict[str, Any] = {"order_id": order_id, "limit": limit + 1, "tenant": self._tenant}
        if after_id is not None:
            params["after"] = after_id
        return [_payment(row) for row in await self._db.fetch_all(sql, params)]

    async def add_refund(self, refund: Refund) -> None:
        sql = f"""INSERT INTO refunds ({_REFUND_COLUMNS}, tenant_id)
                  VALUES (:id, :payment_id, :order_id, :amount_minor, :currency, :status, :reference,
                          :failure_message, :requested_at, :settled_at, :partial, :tenant)"""  # noqa: S608
        await self._db.write(Write(sql, {**_refund_params(refund), "tenant": self._tenant}))
        self.seen_refunds[refund.id] = refund
        if refund.order_id in self._held:
            self._held[refund.order_id][1].append(refund)

    async def save_refund(self, refund: Refund) -> None:
        params = {**_refund_params(refund), "tenant": self._tenant}
        await self._db.write(Write(_SAVE_REFUND, params, ("refunds", refund.id)))
        self.seen_refunds[refund.id] = refund
        if refund.order_id in self._held:
            _replace(self._held[refund.order_id][1], refund)

    async def get_refund(self, refund_id: UUID, *, for_update: bool = False) -> Refund | None:
        sql = _REFUND_LOCKED + self._db.for_update() if for_update else _REFUND_BY_ID
        row = await self._db.fetch_one(sql, {"id": refund_id, "tenant": self._tenant})
        if row is None:
            return None
        refund = self.seen_refunds[refund_id] = _refund(row)
        return refund

    async def refund_by_reference(self, reference: str) -> RefundDue | None:
        """Across tenants on purpose: the gateway's reference is unique everywhere, and names the tenant."""
        sql = f"""SELECT {_DUE_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id
                  WHERE r.reference = :reference"""  # noqa: S608
        row = await self._db.fetch_one(sql, {"reference": reference})
        return None if row is None else _due(row)

    async def refunds_of(self, order_id: UUID) -> list[Refund]:
        if order_id in self._held:
            return list(self._held[order_id][1])
        sql = f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE order_id = :order_id AND tenant_id = :tenant ORDER BY requested_at, id"  # noqa: S608,E501
        return [_refund(row) for row in await self._db.fetch_all(sql, {"order_id": order_id, "tenant": self._tenant})]

    async def pending_refunds(self, limit: int) -> list[RefundDue]:
        """Across tenants, for the poller, which settles each in its own tenant (ADR 0040)."""
        sql = f"""SELECT {_DUE_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id
                  WHERE r.status = 'PENDING' ORDER BY r.requested_at, r.id LIMIT :limit"""  # noqa: S608
        return [_due(row) for row in await self._db.fetch_all(sql, {"limit": limit})]

    async def net_captured_since(self, since: datetime) -> dict[str, int]:
        # A capture counts from the moment its payment started (seconds before the charge: the index on
        # (status, created_at) serves it); a refund from the moment the money went back.
        captured = """SELECT currency, SUM(amount_minor) AS minor FROM payments
                      WHERE status = 'SUCCEEDED' AND created_at >= :since AND tenant_id = :tenant GROUP BY currency"""
        refunded = """SELECT currency, SUM(amount_minor) AS minor FROM refunds
                      WHERE status = 'SUCCEEDED' AND settled_at >= :since AND tenant_id = :tenant GROUP BY currency"""
        net: dict[str, int] = {}
        for sql, sign in ((captured, 1), (refunded, -1)):
            for row in await self._db.fetch_all(sql, {"since": since, "tenant": self._tenant}):
                net[row["currency"]] = net.get(row["currency"], 0) + sign * int(row["minor"])
        return net

    async def forget_holders(self, order_id: UUID) -> None:
        for payment in await self.of_order(order_id):
            payment.card = payment.card.without_holder()
            await self.save(payment)

    async def count_pending_refunds(self) -> int:
        # Every tenant's: what the poller still has to do, for the operator's health figures.
        row = await self._db.fetch_one("SELECT COUNT(*) AS pending FROM refunds WHERE status = 'PENDING'")
        return 0 if row is None else int(row["pending"])


def _card_json(card: Card) -> str:
    return to_json(
        {
            "last4": card.last4,
            "brand": card.brand,
            "expMonth": card.exp_month,
            "expYear": card.exp_year,
            "name": card.name,
            "addressLine1": card.address_line1,
            "addressLine2": card.address_line2,
            "addressCity": card.address_city,
            "addressCountry": card.address_country,
            "addressPostCode": card.address_post_code,
        }
    )


def _card(value: Any) -> Card:
    card = value if isinstance(value, dict) else from_json(value)  # a dict inside a JSON row (PostgreSQL's jsonb)
    return Card(
        card["last4"],
        card["brand"],
        card["expMonth"],
        card["expYear"],
        card.get("name"),
        card.get("addressLine1"),
        card.get("addressLine2"),
        card.get("addressCity"),
        card.get("addressCountry"),
        card.get("addressPostCode"),
    )


def _replace(records: list[Any], record: Payment | Refund) -> None:
    """Put ``record`` where the record with its id is in ``records``."""
    records[:] = [record if held.id == record.id else held for held in records]


def _payment_params(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "amount_minor": payment.amount.amount_minor,
        "currency": payment.amount.currency,
        "status": payment.status.value,
        "gateway": payment.gateway,
        "reference": payment.reference,
        "card": _card_json(payment.card),
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "card_token": payment.card_token,
    }


def _payment(row: Row) -> Payment:
    return Payment(
        id=as_uuid(row["id"]),
        order_id=as_uuid(row["order_id"]),
        amount=Money(int(row["amount_minor"]), row["currency"]),
        card=_card(row["card"]),
        gateway=row["gateway"],
        status=PaymentStatus(row["status"]),
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        reference=row["reference"],
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        card_token=row["card_token"],
    )


def _refund_params(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "payment_id": refund.payment_id,
        "order_id": refund.order_id,
        "amount_minor": refund.amount.amount_minor,
        "currency": refund.amount.currency,
        "status": refund.status.value,
        "reference": refund.reference,
        "failure_message": refund.failure_message,
        "requested_at": refund.requested_at,
        "settled_at": refund.settled_at,
        "partial": refund.partial,
    }


def _refund(row: Row) -> Refund:
    return Refund(
        id=as_uuid(row["id"]),
        payment_id=as_uuid(row["payment_id"]),
        order_id=as_uuid(row["order_id"]),
        amount=Money(int(row["amount_minor"]), row["currency"]),
        status=RefundStatus(row["status"]),
        requested_at=as_datetime(row["requested_at"]),
        reference=row["reference"],
        failure_message=row["failure_message"],
        settled_at=as_opt_datetime(row["settled_at"]),
        partial=bool(row["partial"]),
    )
