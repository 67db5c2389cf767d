"""Payments and refunds: cards as we may keep them, the facts a gateway reports, and an order's payment status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from orderline.domain.errors import InvalidCard
from orderline.domain.money import Money


class PaymentStatus(StrEnum):
    """The Pet Store's payment statuses; orderline records PROCESSING, SUCCEEDED and FAILED."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class OrderPaymentStatus(StrEnum):
    UNPAID = "UNPAID"
    PAID = "PAID"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"


@dataclass(frozen=True, slots=True)
class Card:
    """What we keep of a card: never its number (only the last four digits) and never its CVC."""

    last4: str
    brand: str
    exp_month: int
    exp_year: int
    name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_country: str | None = None
    address_post_code: str | None = None

    @property
    def masked(self) -> str:
        return "*" * 12 + self.last4

    def without_holder(self) -> Card:
        """The card with the holder's name and address removed (erasure keeps the money facts only)."""
        return Card(self.last4, self.brand, self.exp_month, self.exp_year)


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A card as the client sent it, for the gateway's eyes only. Its repr shows no number and no CVC."""

    number: str = field(repr=False)
    cvc: str = field(repr=False)
    card: Card

    @classmethod
    def parse(
        cls, number: str, cvc: str, exp_month: int, exp_year: int, now: datetime, **holder: str | None
    ) -> CardDetails:
        """Check the number (digits, Luhn), the CVC and the expiry; refuse with InvalidCard naming the field."""
        if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19) or not _luhn_valid(number):
            raise InvalidCard("the card number is not a valid card number", field="number")
        if not (cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4):
            raise InvalidCard("the CVC is three or four digits", field="cvc")
        if not 1 <= exp_month <= 12:
            raise InvalidCard("expMonth is 1 to 12", field="expMonth")
        if (exp_year, exp_month) < (now.year, now.month):
            raise InvalidCard("the card has expired", field="expYear")
        return cls(number, cvc, Card(number[-4:], _brand(number), exp_month, exp_year, **holder))


@dataclass(frozen=True, slots=True)
class CardInput:
    """A card as the client sent it, not yet checked: ``check`` judges it, its expiry against ``now``."""

    number: str = field(repr=False)
    cvc: str = field(repr=False)
    exp_month: int
    exp_year: int
    holder: Mapping[str, str | None] = field(default_factory=dict)  # name and address, as Card names them

    def check(self, now: datetime) -> CardDetails:
        return CardDetails.parse(self.number, self.cvc, self.exp_month, self.exp_year, now, **self.holder)


@dataclass(slots=True)
class Payment:
    id: UUID
    order_id: UUID
    amount: Money
    card: Card
    gateway: str
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    reference: str | None = None  # the gateway's id for the charge
    failure_code: str | None = None
    failure_message: str | None = None
    # The gateway's token for the card, kept from before the charge is asked so that it can be asked again
    # (with this payment's id as the idempotency key) if we crash before keeping the answer.
    card_token: str | None = None

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        order_id: UUID,
        amount: Money,
        card: Card,
        card_token: str | None,
        gateway: str,
        now: datetime,
    ) -> Payment:
        return cls(id, order_id, amount, card, gateway, PaymentStatus.PROCESSING, now, now, card_token=card_token)

    @property
    def settled(self) -> bool:
        return self.status is not PaymentStatus.PROCESSING

    def succeed(self, reference: str, now: datetime) -> None:
        self._settle(PaymentStatus.SUCCEEDED, now)
        self.reference = reference

    def fail(self, code: str, message: str, now: datetime, reference: str | None = None) -> None:
        self._settle(PaymentStatus.FAILED, now)
        self.reference = reference
        self.failure_code = code
        self.failure_message = message

    def _settle(self, status: PaymentStatus, now: datetime) -> None:
        if self.status is not PaymentStatus.PROCESSING:
            raise ValueError(f"payment {self.id} is already {self.status}")  # a bug, never a client's doing
        self.status = status
        self.updated_at = now


@dataclass(slots=True)
class Refund:
    """Money going back for one payment. Recorded PENDING before the gateway is asked, so nothing is lost."""

    id: UUID
    payment_id: UUID
    order_id: UUID
    amount: Money
    status: RefundStatus
    requested_at: datetime
    reference: str | None = None  # the gateway's id for the refund, once it has answered
    failure_message: str | None = None
    settled_at: datetime | None = None

    @classmethod
    def request(cls, *, id: UUID, payment: Payment, refunds: Iterable[Refund], now: datetime) -> Refund:
        """Refund a captured payment in full. Asking for more than ``refundable`` allows is a bug."""
        if refundable([payment], refunds) is not payment:
            raise ValueError(f"payment {payment.id} has nothing left to refund")  # money must be conserved
        return cls(id, payment.id, payment.order_id, payment.amount, RefundStatus.PENDING, now)

    @property
    def settled(self) -> bool:
        return self.status is not RefundStatus.PENDING

    def succeed(self, reference: str, now: datetime) -> None:
        self._settle(RefundStatus.SUCCEEDED, reference, now)

    def fail(self, message: str, now: datetime, reference: str | None = None) -> None:
        self._settle(RefundStatus.FAILED, reference, now)
        self.failure_message = message

    def _settle(self, status: RefundStatus, reference: str | None, now: datetime) -> None:
        if self.settled:
            raise ValueError(f"refund {self.id} is already {self.status}")  # a bug: settle exactly once
        self.status = status
        self.reference = reference or self.reference
        self.settled_at = now


def refundable(payments: Iterable[Payment], refunds: Iterable[Refund]) -> Payment | None:
    """The captured payment with no refund pending or done (a failed refund may be tried again), if any."""
    taken = {r.payment_id for r in refunds if r.status is not RefundStatus.FAILED}
    return next((p for p in payments if p.status is PaymentStatus.SUCCEEDED and p.id not in taken), None)


def payment_status(payments: Iterable[Payment], refunds: Iterable[Refund]) -> OrderPaymentStatus:
    """An order's payment status, from its recorded facts: a capture, and the latest refund of it."""
    captured = {p.id for p in payments if p.status is PaymentStatus.SUCCEEDED}
    if not captured:
        return OrderPaymentStatus.UNPAID
    latest: Refund | None = None
    for refund in refunds:  # oldest first; on a tie of times the later in the list is the newer
        if refund.payment_id in captured and (latest is None or refund.requested_at >= latest.requested_at):
            latest = refund
    if latest is None:
        return OrderPaymentStatus.PAID
    return {
        RefundStatus.PENDING: OrderPaymentStatus.REFUND_PENDING,
        RefundStatus.SUCCEEDED: OrderPaymentStatus.REFUNDED,
        RefundStatus.FAILED: OrderPaymentStatus.REFUND_FAILED,
    }[latest.status]


def _luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    checksum = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return checksum % 10 == 0


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "VISA"
    if number[:2] in {"34", "37"}:
        return "AMEX"
    if "51" <= number[:2] <= "55" or "2221" <= number[:4] <= "2720":
        return "MASTERCARD"
    return "CARD"
