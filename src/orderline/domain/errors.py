"""Domain errors: a business rule refused a command; each has a stable code."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule was refused. ``code`` is stable and public; ``details`` explain the refusal."""

    code: ClassVar[str] = "domain-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnknownCurrency(DomainError):
    code = "unknown-currency"


class InvalidAmount(DomainError):
    code = "invalid-amount"


class CurrencyMismatch(DomainError):
    code = "currency-mismatch"


class InvalidOrder(DomainError):
    """The order's lines break a rule (no lines, repeated pet, bad quantity)."""

    code = "invalid-order"


class OutOfStock(DomainError):
    code = "out-of-stock"


class StockBelowCommitted(DomainError):
    """A catalogue edit would leave less stock than open orders and sales already hold."""

    code = "stock-below-committed"


class IllegalTransition(DomainError):
    code = "illegal-transition"


class OrderNotCancellable(DomainError):
    code = "order-not-cancellable"


class OrderNotEditable(DomainError):
    """Lines and the billing address change only while the order is open (ADR 0022)."""

    code = "order-not-editable"


class PetReserved(DomainError):
    """A pet with units held by open orders cannot leave the catalogue."""

    code = "pet-reserved"


class TotalMismatch(DomainError):
    """The client named a total that is not what the catalogue prices add up to."""

    code = "total-mismatch"


class InvalidUser(DomainError):
    """A username, email or phone that does not follow the rules."""

    code = "invalid-user"


class WeakPassword(DomainError):
    code = "weak-password"


class InvalidVoucher(DomainError):
    """A voucher definition that breaks a rule (code format, percentage range, amount)."""

    code = "invalid-voucher"


class VoucherNotApplicable(DomainError):
    """An order names a voucher that is unknown, expired, used up or in another currency."""

    code = "voucher-not-applicable"


class InvalidAddress(DomainError):
    code = "invalid-address"


class InvalidCard(DomainError):
    """A card number that fails its check digit, a malformed CVC, or an expired card."""

    code = "invalid-card"


class OrderNotPayable(DomainError):
    """Only a PLACED order takes a payment."""

    code = "order-not-payable"


class PaymentMismatch(DomainError):
    """The payment's amount or currency is not the order's total."""

    code = "payment-mismatch"


class PaymentInProgress(DomainError):
    """Another payment of the order is still with the gateway; wait for its answer."""

    code = "payment-in-progress"


class PaymentDeclined(DomainError):
    """The gateway declined the card. The FAILED payment is recorded; the order stays PLACED."""

    code = "payment-declined"
