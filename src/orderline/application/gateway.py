"""The PaymentGateway port: tokenise a card, charge it, refund a charge, report a refund, read a signed callback.

A provider (the built-in test gateway, Stripe, Adyen) is an adapter implementing this Protocol; the
use cases know nothing else about it. Every call that moves money names our own id (payment or
refund), which the adapter passes on as the provider's idempotency key, so asking twice never moves
money twice — and asking again after a crash gets the first answer. A charge names the card by the
provider's token for it, which may be stored (the number never is), so a charge can be asked again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from orderline.application.errors import ApplicationError
from orderline.domain.money import Money
from orderline.domain.payment import CardDetails, RefundStatus


class GatewayUnavailable(Exception):
    """The gateway could not be asked. From ``charge``: the adapter guarantees nothing was charged."""


class InvalidCallback(ApplicationError):
    """A callback whose signature does not verify (or is too old) or whose body we cannot read."""

    code = "invalid-signature"


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    succeeded: bool
    reference: str | None  # the provider's id of the charge (also of a declined one, where it gives one)
    decline_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    status: RefundStatus  # PENDING: the provider will settle it later (callback, or ask again)
    reference: str
    message: str | None = None


class PaymentGateway(Protocol):
    @property
    def name(self) -> str: ...

    async def card_token(self, card: CardDetails) -> str:
        """The provider's reference to the card (a payment method): storable, useless without the provider."""
        ...

    async def charge(self, payment_id: UUID, amount: Money, card_token: str) -> ChargeOutcome:
        """Charge ``amount`` to the card; asking again with the same ``payment_id`` gets the first answer and
        never charges twice, however long after."""
        ...

    async def refund(self, refund_id: UUID, charge_reference: str, amount: Money) -> RefundOutcome:
        """Return ``amount`` of a charge; asking again with the same ``refund_id`` returns the same refund."""
        ...

    async def refund_status(self, reference: str) -> RefundOutcome: ...

    def callback_reference(self, headers: Mapping[str, str], body: bytes) -> str:
        """Verify a callback's signature and say which refund (by the provider's reference) it is about.

        Raises InvalidCallback. The callback's claim is not trusted beyond that: the refund's outcome
        is asked of the gateway with ``refund_status``.
        """
        ...
