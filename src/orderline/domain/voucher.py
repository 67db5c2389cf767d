"""Vouchers: a code worth a percentage or an amount off an order, with a cap on uses, an expiry and a minimum."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.domain.errors import InvalidVoucher, VoucherNotApplicable
from orderline.domain.money import Money
from orderline.domain.text import SPACE

# ASCII only, checked before upper-casing: "ß".upper() is "SS", and a rule checked on the upper-cased form
# would let through codes the documented pattern refuses. Surrounding whitespace is ignored.
_CODE = r"[A-Za-z0-9][A-Za-z0-9_-]{2,31}"
CODE_PATTERN = f"^[{SPACE}]*{_CODE}[{SPACE}]*$"
MAX_USES = 2**31 - 1  # what the uses counters' INTEGER columns hold on every database


def check_code(code: str) -> str:
    """A voucher code, in upper case: codes are unique whatever case a customer types them in."""
    stripped = code.strip()
    if not re.fullmatch(_CODE, stripped):
        raise InvalidVoucher("a voucher code is 3 to 32 letters, digits, '_' or '-'", field="code")
    return stripped.upper()


@dataclass(slots=True)
class Voucher:
    id: UUID
    code: str
    percent_off: int | None
    amount_off: Money | None
    max_uses: int | None
    expires_at: datetime | None
    created_at: datetime
    uses: int = 0
    version: int = 1
    min_subtotal: Money | None = None  # the order's subtotal must be at least this, at placement and after edits

    def __post_init__(self) -> None:
        if (self.percent_off is None) == (self.amount_off is None):
            raise InvalidVoucher("a voucher takes off either a percentage or an amount", field="percentOff")
        if self.percent_off is not None and not 1 <= self.percent_off <= 100:
            raise InvalidVoucher("percentOff is between 1 and 100", field="percentOff")
        if self.amount_off is not None and self.amount_off.amount_minor <= 0:
            raise InvalidVoucher("amountOff is more than zero", field="amountOff")
        if self.max_uses is not None and not 1 <= self.max_uses <= MAX_USES:
            raise InvalidVoucher(f"maxUses is 1 to {MAX_USES}", field="maxUses")
        if self.min_subtotal is not None and self.min_subtotal.amount_minor <= 0:
            raise InvalidVoucher("minSubtotal is more than zero", field="minSubtotal")
        minimum, amount = self.min_subtotal, self.amount_off
        if minimum is not None and amount is not None and minimum.currency != amount.currency:
            raise InvalidVoucher("minSubtotal and amountOff are in one currency", field="minSubtotal")

    def discount_on(self, subtotal: Money, now: datetime) -> Money:
        """What this voucher takes off ``subtotal`` now; refused when expired, used up, in another currency, or
        when the subtotal is below its minimum."""
        if self.expires_at is not None and self.expires_at <= now:
            expired = self.expires_at.isoformat()
            raise VoucherNotApplicable(f"voucher {self.code} expired at {expired}", reason="expired")
        if self.max_uses is not None and self.uses >= self.max_uses:
            raise VoucherNotApplicable(f"voucher {self.code} has been used up", reason="used-up")
        self._ensure_currency(subtotal)
        if not self.holds_on(subtotal):
            assert self.min_subtotal is not None
            raise VoucherNotApplicable(
                f"voucher {self.code} needs a subtotal of at least {self.min_subtotal} {subtotal.currency}",
                reason="minimum",
            )
        return self.kept_on(subtotal)

    def holds_on(self, subtotal: Money) -> bool:
        """Is ``subtotal`` at least the voucher's minimum (if it has one)?"""
        return self.min_subtotal is None or subtotal.amount_minor >= self.min_subtotal.amount_minor

    def kept_on(self, subtotal: Money) -> Money:
        """What the voucher takes off ``subtotal`` for an order that already holds it (its use counted, its expiry
        and cap judged when the order was placed): a percentage recomputed, an amount capped at the subtotal."""
        if self.amount_off is not None:
            return min(self.amount_off, subtotal, key=lambda m: m.amount_minor)
        assert self.percent_off is not None
        # Rounded down: the shop never discounts a fraction of a minor unit more than promised.
        return Money(subtotal.amount_minor * self.percent_off // 100, subtotal.currency)

    def _ensure_currency(self, subtotal: Money) -> None:
        worth = self.amount_off or self.min_subtotal
        if worth is not None and worth.currency != subtotal.currency:
            raise VoucherNotApplicable(
                f"voucher {self.code} is worth {worth.currency}, the order is in {subtotal.currency}",
                reason="currency",
            )

    def use(self) -> None:
        self.uses += 1
        self.version += 1

    def free(self) -> None:
        """Give a use back (the order was cancelled or erased)."""
        self.uses = max(0, self.uses - 1)
        self.version += 1
