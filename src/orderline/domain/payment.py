"""Payments and refunds: cards as we may keep them, the facts a gateway reports, and what they add up to."""

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
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"  # some returned (removed lines), less than was captured
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    """What an order's payment facts add up to, kept on the order: its payment status, the money captured
    (payments that succeeded) and the money given back (refunds that succeeded), in the order's currency."""

    status: OrderPaymentStatus
    captured: Money
    refunded: Money

    @classmethod
    def unpaid(cls, currency: str) -> PaymentSummary:
        return cls(OrderPaymentStatus.UNPAID, Money.zero(currency), Money.zero(currency))


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
    """Money going back for one payment. Recorded PENDING before the gateway is asked, so nothing is lost.

    ``partial``: it returns the share of removed lines while the order stays open (ADR 0022); settling it
    never moves the order's status, where a cancel's refund completes or rolls back the cancel.
    """

    id: UUID
    payment_id: UUID
    order_id: UUID
    amount: Money
    status: RefundStatus
    requested_at: datetime
    reference: str | None = None  # the gateway's id for the refund, once it has answered
    failure_message: str | None = None
    settled_at: datetime | None = None
    partial: bool = False

    @classmethod
    def request(
        cls,
        *,
        id: UUID,
        payment: Payment,
        refunds: Iterable[Refund],
        now: datetime,
        amount: Money | None = None,
        partial: bool = False,
    ) -> Refund:
        """Refund ``amount`` of a captured payment (default: all it has left). More than is left is a bug."""
        left = left_to_refund(payment, refunds)
        amount = left if amount is None else amount
        if not 0 < amount.amount_minor <= left.amount_minor or amount.currency != left.currency:
            # money must be conserved: never more back than was captured and not yet returned
            what = "nothing" if left.amount_minor == 0 else f"only {left}"
            raise ValueError(f"payment {payment.id} has {what} left to refund, not {amount}")
        return cls(id, payment.id, payment.order_id, amount, RefundStatus.PENDING, now, partial=partial)

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


def left_to_refund(payment: Payment, refunds: Iterable[Refund]) -> Money:
    """What may still go back of a payment: captured, minus its refunds pending or done (a failed one gave
    nothing back, so its amount may be asked again)."""
    if payment.status is not PaymentStatus.SUCCEEDED:
        return Money.zero(payment.amount.currency)
    taken = sum(
        r.amount.amount_minor for r in refunds if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
    )
    return Money(payment.amount.amount_minor - taken, payment.amount.currency)


def refundable(payments: Iterable[Payment], refunds: Iterable[Refund]) -> Payment | None:
    """The captured payment with the most left to refund, if any has something left."""
    refunds = list(refunds)
    left = [(left_to_refund(p, refunds).amount_minor, p) for p in payments]
    best = max(left, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] > 0 else None


def net_paid(payments: Iterable[Payment], refunds: Iterable[Refund], currency: str) -> Money:
    """What the customer has paid and not been given back or promised back: the sum of ``left_to_refund``."""
    refunds = list(refunds)
    return Money(sum(left_to_refund(p, refunds).amount_minor for p in payments), currency)


def payment_status(payments: Iterable[Payment], refunds: Iterable[Refund]) -> OrderPaymentStatus:
    """An order's payment status, from its recorded facts: its captures and their refunds.

    A refund still with the gateway shows as REFUND_PENDING. A failed refund shows as REFUND_FAILED until
    a refund is asked after it (which asks its amount again, ``left_to_refund`` counting it as not given
    back). Otherwise the amounts speak: all captured money back is REFUNDED, some is PARTIALLY_REFUNDED.
    """
    captured = {p.id: p.amount.amount_minor for p in payments if p.status is PaymentStatus.SUCCEEDED}
    if not captured:
        return OrderPaymentStatus.UNPAID
    refunds = [r for r in refunds if r.payment_id in captured]
    if not refunds:
        return OrderPaymentStatus.PAID
    if any(r.status is RefundStatus.PENDING for r in refunds):
        return OrderPaymentStatus.REFUND_PENDING
    for failed in (r for r in refunds if r.status is RefundStatus.FAILED):
        assert failed.settled_at is not None, "a settled refund has its time"
        if not any(r is not failed and r.requested_at >= failed.settled_at for r in refunds):
            return OrderPaymentStatus.REFUND_FAILED
    returned = sum(r.amount.amount_minor for r in refunds if r.status is RefundStatus.SUCCEEDED)
    if returned >= sum(captured.values()):
        return OrderPaymentStatus.REFUNDED
    return OrderPaymentStatus.PARTIALLY_REFUNDED


def payment_summary(payments: Iterable[Payment], refunds: Iterable[Refund], currency: str) -> PaymentSummary:
    """An order's payment status and the money behind it: captured, and refunded (a refund pending or failed
    has given nothing back). Only refunds of captured payments count, as in ``payment_status``."""
    payments, refunds = list(payments), list(refunds)
    captured = {p.id: p.amount.amount_minor for p in payments if p.status is PaymentStatus.SUCCEEDED}
    returned = [r for r in refunds if r.payment_id in captured and r.status is RefundStatus.SUCCEEDED]
    return PaymentSummary(
        payment_status(payments, refunds),
        captured=Money(sum(captured.values()), currency),
        refunded=Money(sum(r.amount.amount_minor for r in returned), currency),
    )


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
