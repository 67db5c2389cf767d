"""The built-in test gateway: test card numbers choose the outcome, as providers' test modes do.

Stateless on purpose: a card's behaviour is written into its token, a charge's into its reference,
and an asynchronous refund's reference carries the moment it was asked for, so every answer follows
from what it is asked with and the clock alone. Any process, before or after a restart, answers the
same, and a charge asked again with the same payment id and token gets the same answer, as a real
provider's idempotency key does. One departure from a real provider follows: asking for the same
refund twice gives a second reference (with a later time). Refunds keep the first reference they
are told, and re-send only refunds that never got one.

| card | charge | refund |
|---|---|---|
| 4242424242424242 | succeeds | succeeds at once |
| 4000000000000002 | declined | — |
| 4000000000003220 | succeeds | pending, succeeds after the refund delay |
| 4000000000005126 | succeeds | pending, fails after the refund delay |
| 4000000000000259 | succeeds, answering only after the slow-charge delay | succeeds at once |

Any other valid card number is declined (``card_not_supported``).

In the sandbox (ADR 0041) a fault injected for a tenant's next charge or refund comes first, whatever the card:
``fail`` declines the charge or fails the refund at once, ``timeout`` is GatewayUnavailable at once (nothing
waits), ``pending`` answers a charge only after the slow-charge delay and makes a refund asynchronous (it
succeeds after the refund delay, in the tenant's time).

Callbacks are signed as Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) with the gateway's secret.
"""

from __future__ import annotations

import asyncio
import base64
import math
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import msgspec
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from orderline.application.gateway import ChargeOutcome, GatewayUnavailable, InvalidCallback, RefundOutcome
from orderline.application.ports import Clock
from orderline.application.sandbox import Call, Fault, Faults
from orderline.application.tenant_time import acting
from orderline.domain.money import Money
from orderline.domain.payment import CardDetails, RefundStatus

NAME = "test"

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
REFUNDS_LATER = "4000000000003220"
REFUND_FAILS_LATER = "4000000000005126"
ANSWERS_SLOWLY = "4000000000000259"

# The behaviour of a card, as written into its token and (how it refunds) into its charge reference.
_SYNC, _DECLINED, _ASYNC_OK, _ASYNC_FAIL = "sync", "declined", "asyncok", "asyncfail"
_SLOW, _UNKNOWN = "slow", "unknown"
_BEHAVIOUR = {
    SUCCEEDS: _SYNC,
    DECLINED: _DECLINED,
    REFUNDS_LATER: _ASYNC_OK,
    REFUND_FAILS_LATER: _ASYNC_FAIL,
    ANSWERS_SLOWLY: _SLOW,
}
_REFUNDS_AS = {_SLOW: _SYNC}  # a slow card's charge refunds like 4242's
REFUND_FAILURE = "the card issuer refused the refund (test card 4000000000005126)"
_FAULT = "fault"  # a refund an injected sandbox fault failed
FAULT_FAILURE = "the refund failed: a sandbox fault was injected for it"


class RefundCallback(msgspec.Struct):
    reference: str


class Callback(msgspec.Struct):
    type: str
    data: RefundCallback


class TestModeGateway:
    """A PaymentGateway whose card numbers choose the outcome (see the module's table)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        clock: Clock,
        refund_delay: timedelta,
        secret: str,
        slow_charge: timedelta = timedelta(seconds=5),
        faults: Faults | None = None,
    ) -> None:
        self._clock = clock
        self._delay = refund_delay
        self._slow_charge = slow_charge
        self._webhook = Webhook(secret)
        self._faults = faults  # the sandbox's (ADR 0041); None outside it, where nothing is asked

    @property
    def name(self) -> str:
        return NAME

    async def card_token(self, card: CardDetails) -> str:
        return f"tg_pm_{_BEHAVIOUR.get(card.number, _UNKNOWN)}_{card.card.last4}"

    async def charge(self, payment_id: UUID, amount: Money, card_token: str) -> ChargeOutcome:
        behaviour = _behaviour_of_token(card_token)
        fault = await self._fault(Call.CHARGE)
        if fault is Fault.FAIL:
            return ChargeOutcome(False, None, "card_declined", "the card was declined: a sandbox fault was injected")
        if fault is Fault.TIMEOUT:
            raise GatewayUnavailable("the test gateway did not answer in time: a sandbox fault was injected")
        reference = f"tg_ch_{_REFUNDS_AS.get(behaviour, behaviour)}_{payment_id.hex}"
        if behaviour == _UNKNOWN:
            known = ", ".join(_BEHAVIOUR)
            return ChargeOutcome(
                False, reference, "card_not_supported", f"the test gateway takes only its test cards: {known}"
            )
        if behaviour == _DECLINED:
            return ChargeOutcome(False, reference, "card_declined", "the card was declined")
        if behaviour == _SLOW or fault is Fault.PENDING:
            await asyncio.sleep(self._slow_charge.total_seconds())
        return ChargeOutcome(True, reference)

    async def refund(self, refund_id: UUID, charge_reference: str, amount: Money) -> RefundOutcome:
        behaviour = _behaviour_of(charge_reference)
        fault = await self._fault(Call.REFUND)
        if fault is Fault.FAIL:
            return RefundOutcome(RefundStatus.FAILED, f"tg_re_{_FAULT}_{refund_id.hex}", FAULT_FAILURE)
        if fault is Fault.TIMEOUT:
            raise GatewayUnavailable("the test gateway did not answer in time: a sandbox fault was injected")
        if fault is Fault.PENDING:
            behaviour = _ASYNC_OK if behaviour == _SYNC else behaviour
        if behaviour == _SYNC:
            return RefundOutcome(RefundStatus.SUCCEEDED, f"tg_re_{_SYNC}_{refund_id.hex}")
        asked_at = math.ceil(self._clock.now().timestamp() * 1000)  # rounded up: never settles early
        return await self.refund_status(f"tg_re_{behaviour}_{asked_at}_{refund_id.hex}")

    async def refund_status(self, reference: str) -> RefundOutcome:
        parts = reference.split("_")
        if parts[:3] == ["tg", "re", _SYNC]:
            return RefundOutcome(RefundStatus.SUCCEEDED, reference)
        if parts[:3] == ["tg", "re", _FAULT]:
            return RefundOutcome(RefundStatus.FAILED, reference, FAULT_FAILURE)
        if len(parts) != 5 or parts[:2] != ["tg", "re"] or parts[2] not in {_ASYNC_OK, _ASYNC_FAIL}:
            raise ValueError(f"not a test gateway refund: {reference!r}")  # we only ask about our own references
        asked_at = datetime.fromtimestamp(int(parts[3]) / 1000, UTC)
        if self._clock.now() - asked_at < self._delay:
            return RefundOutcome(RefundStatus.PENDING, reference)
        if parts[2] == _ASYNC_OK:
            return RefundOutcome(RefundStatus.SUCCEEDED, reference)
        return RefundOutcome(RefundStatus.FAILED, reference, REFUND_FAILURE)

    async def _fault(self, call: Call) -> Fault | None:
        """The fault injected for this call of the tenant the task acts for, taken; None outside the sandbox."""
        tenant = acting() if self._faults is not None else None
        return None if tenant is None or self._faults is None else await self._faults.take_fault(tenant.tenant, call)

    def callback_reference(self, headers: Mapping[str, str], body: bytes) -> str:
        try:
            self._webhook.verify(body, dict(headers), json_parse=False)
            return msgspec.json.decode(body, type=Callback).data.reference
        except (WebhookVerificationError, ValueError, msgspec.DecodeError) as exc:
            raise InvalidCallback(f"the callback is not a valid signed gateway callback: {exc}") from None

    def signed_callback(self, reference: str) -> tuple[dict[str, str], bytes]:
        """The headers and body the gateway sends to say a refund has moved (for tests and sandbox users)."""
        body = msgspec.json.encode(Callback("refund.updated", RefundCallback(reference)))
        message_id, now = f"msg_{uuid4().hex}", datetime.now(UTC)  # the receiver checks real time
        signature = self._webhook.sign(message_id, now, body.decode())
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        return headers, body


def _behaviour_of_token(card_token: str) -> str:
    parts = card_token.split("_")
    if len(parts) != 4 or parts[:2] != ["tg", "pm"] or parts[2] not in {*_BEHAVIOUR.values(), _UNKNOWN}:
        raise ValueError(f"not a test gateway card token: {card_token!r}")  # we only charge tokens it gave us
    return parts[2]


def _behaviour_of(charge_reference: str) -> str:
    parts = charge_reference.split("_")
    if len(parts) != 4 or parts[:2] != ["tg", "ch"] or parts[2] not in {_SYNC, _ASYNC_OK, _ASYNC_FAIL}:
        raise ValueError(f"not a test gateway charge that succeeded: {charge_reference!r}")
    return parts[2]


def new_secret() -> str:
    """A fresh Standard Webhooks secret (``whsec_`` and 32 random bytes in base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
