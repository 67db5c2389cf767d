"""Money: integer minor units in one ISO 4217 currency, decimal strings on the wire, never float."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from orderline.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 minor-unit exponents of the currencies we accept. A currency missing here is refused
# rather than guessed, because a wrong exponent silently multiplies prices by ten or a hundred.
MINOR_UNITS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
    "HKD": 2, "INR": 2, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "NOK": 2, "NZD": 2, "PLN": 2,
    "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2,
}  # fmt: skip

# Amounts are stored as signed 64-bit integers of minor units; anything larger is refused, never wrapped.
MAX_MINOR = 2**63 - 1

_DECIMAL = re.compile(r"(?P<sign>-?)(?P<units>[0-9]{1,15})(?:\.(?P<fraction>[0-9]+))?")


def check_currency(currency: str) -> str:
    """Return ``currency`` if it is a supported ISO 4217 code, else refuse it."""
    if currency not in MINOR_UNITS:
        raise UnknownCurrency(f"currency {currency!r} is not supported", currency=currency)
    return currency


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        # check_currency's test and the bound, written out: every amount an order, a payment or a row decodes to
        # is built here, so two calls fewer each is measurable (ADR 0046); the refusals are the same.
        if self.currency not in MINOR_UNITS:
            raise UnknownCurrency(f"currency {self.currency!r} is not supported", currency=self.currency)
        if not -MAX_MINOR <= self.amount_minor <= MAX_MINOR:
            raise InvalidAmount(
                f"{self.amount_minor} minor units of {self.currency} is more than can be recorded",
                amount_minor=str(self.amount_minor),
            )

    @classmethod
    def zero(cls, currency: str) -> Money:
        # Money is immutable and compared by value: one zero per currency serves every caller.
        zero = _ZEROS.get(currency)
        if zero is None:  # kept only once made: an unknown currency is refused, as before
            zero = _ZEROS[currency] = cls(0, currency)
        return zero

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a decimal string such as ``"150.00"``; more fraction digits than the currency has is refused."""
        exponent = MINOR_UNITS.get(currency)
        if exponent is None:
            raise UnknownCurrency(f"currency {currency!r} is not supported", currency=currency)
        match = _DECIMAL.fullmatch(text)
        if match is None:
            raise InvalidAmount(f'{text!r} is not a decimal amount such as "150.00"', amount=text)
        fraction = match["fraction"] or ""
        if len(fraction) > exponent:
            raise InvalidAmount(f"{text!r} has more than {exponent} decimal places for {currency}", amount=text)
        minor = int(match["units"]) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
        return cls(-minor if match["sign"] else minor, currency)

    def __str__(self) -> str:
        return decimal_string(self.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}",
                currencies=[self.currency, other.currency],
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(self.amount_minor * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split by non-negative integer weights; the largest remainders get the leftover units."""
        total_weight = sum(weights)
        if not weights or total_weight <= 0 or any(w < 0 for w in weights):
            raise InvalidAmount("allocation weights must be non-negative and sum to more than zero")
        shares = [self.amount_minor * w // total_weight for w in weights]
        remainders = [self.amount_minor * w % total_weight for w in weights]
        leftover = self.amount_minor - sum(shares)
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
            shares[index] += 1
        return [Money(share, self.currency) for share in shares]


_ZEROS: dict[str, Money] = {}  # Money.zero's, by currency: at most one per MINOR_UNITS entry


def total(amounts: Sequence[Money], currency: str) -> Money:
    """Sum amounts of one currency; an empty sequence is zero."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


@lru_cache(maxsize=4096)  # a page of orders repeats its prices and zeros; the function is pure
def decimal_string(amount_minor: int, currency: str) -> str:
    """An amount as the wire shows it, such as ``"150.00"``: what ``str(Money)`` gives, for a read model that
    shows stored minor units of a stored currency without building (and re-checking) a Money."""
    exponent = MINOR_UNITS[currency]
    sign = "-" if amount_minor < 0 else ""
    units, fraction = divmod(abs(amount_minor), 10**exponent)
    return f"{sign}{units}.{fraction:0{exponent}d}" if exponent else f"{sign}{units}"
