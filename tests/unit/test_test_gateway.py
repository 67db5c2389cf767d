"""The test gateway: its test cards choose the outcome, refunds settle by the clock alone, callbacks are signed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from standardwebhooks import Webhook

from orderline.application.gateway import ChargeOutcome, InvalidCallback, RefundOutcome
from orderline.domain.money import Money
from orderline.domain.payment import RefundStatus
from orderline.gateways import testmode
from orderline.gateways.testmode import TestModeGateway
from tests.support import a_card

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
REFUND_DELAY = timedelta(minutes=5)
AMOUNT = Money(15000, "USD")
PAYMENT_ID = UUID(int=1)
REFUND_ID = UUID(int=2)

CHARGEABLE = [testmode.SUCCEEDS, testmode.REFUNDS_LATER, testmode.REFUND_FAILS_LATER, testmode.ANSWERS_SLOWLY]
EVERY_CARD = [*CHARGEABLE, testmode.DECLINED, "4111111111111111"]
DELAYED = [
    (testmode.REFUNDS_LATER, RefundStatus.SUCCEEDED, None),
    (testmode.REFUND_FAILS_LATER, RefundStatus.FAILED, testmode.REFUND_FAILURE),
]


class SettableClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by


def a_gateway(
    clock: SettableClock, secret: str | None = None, slow_charge: timedelta = timedelta(0)
) -> TestModeGateway:
    return TestModeGateway(clock, REFUND_DELAY, secret if secret is not None else testmode.new_secret(), slow_charge)


async def charge(gateway: TestModeGateway, number: str) -> ChargeOutcome:
    return await gateway.charge(PAYMENT_ID, AMOUNT, await gateway.card_token(a_card(number)))


async def refund_of(gateway: TestModeGateway, number: str) -> RefundOutcome:
    """Charge the card, then ask for the charge back."""
    charged = await charge(gateway, number)
    assert charged.reference is not None
    return await gateway.refund(REFUND_ID, charged.reference, AMOUNT)


def signed(secret: str, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers signing ``body`` with ``secret``, as another sender would make them."""
    moment = at if at is not None else datetime.now(UTC)
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", moment, body.decode()),
    }


# Charges


@pytest.mark.parametrize("number", CHARGEABLE)
async def test_a_chargeable_test_card_is_charged_with_a_reference(number: str) -> None:
    gateway = a_gateway(SettableClock())

    outcome = await charge(gateway, number)

    assert (outcome.succeeded, outcome.decline_code, outcome.reference is not None) == (True, None, True)


async def test_the_declined_test_card_is_declined_as_card_declined() -> None:
    gateway = a_gateway(SettableClock())

    outcome = await charge(gateway, testmode.DECLINED)

    assert (outcome.succeeded, outcome.decline_code) == (False, "card_declined")


@pytest.mark.parametrize("number", ["4111111111111111", "5555555555554444", "378282246310005"])
async def test_a_valid_card_that_is_not_a_test_card_is_declined_as_not_supported(number: str) -> None:
    gateway = a_gateway(SettableClock())

    outcome = await charge(gateway, number)

    assert (outcome.succeeded, outcome.decline_code) == (False, "card_not_supported")


@pytest.mark.parametrize("number", EVERY_CARD)
async def test_a_card_token_names_how_the_card_behaves_and_its_last_four_digits_never_the_number(number: str) -> None:
    gateway = a_gateway(SettableClock())

    token = await gateway.card_token(a_card(number))

    assert token.startswith("tg_pm_")
    assert token.endswith("_" + number[-4:])
    assert number not in token


@pytest.mark.parametrize("number", EVERY_CARD)
async def test_a_charge_asked_again_with_the_same_payment_id_gets_the_first_answer(number: str) -> None:
    gateway, restarted = a_gateway(SettableClock()), a_gateway(SettableClock())
    token = await gateway.card_token(a_card(number))

    first = await gateway.charge(PAYMENT_ID, AMOUNT, token)
    again = await restarted.charge(PAYMENT_ID, AMOUNT, token)

    assert again == first


async def test_the_slow_test_card_is_charged_but_answers_only_after_the_slow_charge_delay() -> None:
    gateway = a_gateway(SettableClock(), slow_charge=timedelta(seconds=0.2))
    loop = asyncio.get_running_loop()

    started = loop.time()
    outcome = await charge(gateway, testmode.ANSWERS_SLOWLY)

    assert outcome.succeeded
    assert loop.time() - started >= 0.2


@pytest.mark.parametrize("token", ["pm_card_visa", "tg_pm_unheard_4242", "tg_pm_sync", ""])
async def test_the_gateway_refuses_to_charge_a_token_that_is_not_its_own(token: str) -> None:
    with pytest.raises(ValueError, match="not a test gateway card token"):
        await a_gateway(SettableClock()).charge(PAYMENT_ID, AMOUNT, token)


# Refunds


async def test_a_refund_of_the_instant_test_card_succeeds_at_once() -> None:
    gateway = a_gateway(SettableClock())

    outcome = await refund_of(gateway, testmode.SUCCEEDS)

    assert outcome.status is RefundStatus.SUCCEEDED
    assert await gateway.refund_status(outcome.reference) == outcome


@pytest.mark.parametrize("number", [number for number, _, _ in DELAYED])
async def test_a_refund_of_a_delayed_test_card_is_pending_until_the_delay_has_passed(number: str) -> None:
    clock = SettableClock()
    gateway = a_gateway(clock)
    asked = await refund_of(gateway, number)

    clock.advance(REFUND_DELAY - timedelta(milliseconds=1))
    later = await gateway.refund_status(asked.reference)

    assert (asked.status, later.status) == (RefundStatus.PENDING, RefundStatus.PENDING)


@pytest.mark.parametrize(("number", "status", "message"), DELAYED)
async def test_a_refund_of_a_delayed_test_card_settles_once_the_delay_has_passed(
    number: str, status: RefundStatus, message: str | None
) -> None:
    clock = SettableClock()
    gateway = a_gateway(clock)
    asked = await refund_of(gateway, number)

    clock.advance(REFUND_DELAY)
    settled = await gateway.refund_status(asked.reference)

    assert settled == RefundOutcome(status, asked.reference, message)


@pytest.mark.parametrize("number", CHARGEABLE)
@pytest.mark.parametrize("elapsed", [timedelta(0), REFUND_DELAY - timedelta(milliseconds=1), REFUND_DELAY])
async def test_another_gateway_with_the_same_clock_answers_the_same_as_after_a_restart(
    number: str, elapsed: timedelta
) -> None:
    clock = SettableClock()
    asked = await refund_of(a_gateway(clock), number)
    clock.advance(elapsed)

    before_restart = await a_gateway(clock).refund_status(asked.reference)
    after_restart = await a_gateway(clock).refund_status(asked.reference)

    assert before_restart == after_restart
    assert before_restart.reference == asked.reference


@pytest.mark.parametrize(
    "number", [testmode.DECLINED, "4111111111111111"], ids=["declined-charge", "unsupported-card-charge"]
)
async def test_a_charge_that_did_not_succeed_cannot_be_refunded(number: str) -> None:
    gateway = a_gateway(SettableClock())
    charged = await charge(gateway, number)
    assert charged.reference is not None

    with pytest.raises(ValueError, match="not a test gateway charge"):
        await gateway.refund(REFUND_ID, charged.reference, AMOUNT)


@pytest.mark.parametrize("reference", ["re_123", "tg_re_asyncok_123", "tg_ch_sync_" + "0" * 32, ""])
async def test_the_gateway_refuses_to_report_on_a_refund_that_is_not_its_own(reference: str) -> None:
    gateway = a_gateway(SettableClock())

    with pytest.raises(ValueError, match="not a test gateway refund"):
        await gateway.refund_status(reference)


# Callbacks


def test_a_signed_callback_is_accepted_and_names_its_refund() -> None:
    gateway = a_gateway(SettableClock())
    headers, body = gateway.signed_callback("tg_re_sync_abc")

    reference = gateway.callback_reference(headers, body)

    assert reference == "tg_re_sync_abc"


def test_a_callback_is_accepted_by_another_gateway_with_the_same_secret() -> None:
    secret = testmode.new_secret()
    headers, body = a_gateway(SettableClock(), secret).signed_callback("tg_re_sync_abc")

    reference = a_gateway(SettableClock(), secret).callback_reference(headers, body)

    assert reference == "tg_re_sync_abc"


def test_a_callback_whose_body_was_tampered_with_is_refused() -> None:
    gateway = a_gateway(SettableClock())
    headers, body = gateway.signed_callback("tg_re_sync_abc")
    tampered = body.replace(b"tg_re_sync_abc", b"tg_re_sync_abd")

    with pytest.raises(InvalidCallback):
        gateway.callback_reference(headers, tampered)


def test_a_callback_signed_with_another_secret_is_refused() -> None:
    headers, body = a_gateway(SettableClock()).signed_callback("tg_re_sync_abc")

    with pytest.raises(InvalidCallback):
        a_gateway(SettableClock()).callback_reference(headers, body)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_callback_missing_a_signature_header_is_refused(missing: str) -> None:
    gateway = a_gateway(SettableClock())
    headers, body = gateway.signed_callback("tg_re_sync_abc")
    del headers[missing]

    with pytest.raises(InvalidCallback):
        gateway.callback_reference(headers, body)


@pytest.mark.parametrize(
    "signature",
    ["v1", "v1,a,b", "v1,abc", "", "v1 ,", "v2,c2lnbmF0dXJl"],
    ids=["no-comma", "two-commas", "bad-base64", "empty", "empty-signature", "unknown-version"],
)
def test_a_callback_with_a_malformed_signature_header_is_refused(signature: str) -> None:
    gateway = a_gateway(SettableClock())
    headers, body = gateway.signed_callback("tg_re_sync_abc")
    headers["webhook-signature"] = signature

    with pytest.raises(InvalidCallback):
        gateway.callback_reference(headers, body)


@pytest.mark.parametrize("timestamp", ["soon", "", "1e400"])
def test_a_callback_with_a_malformed_timestamp_is_refused(timestamp: str) -> None:
    gateway = a_gateway(SettableClock())
    headers, body = gateway.signed_callback("tg_re_sync_abc")
    headers["webhook-timestamp"] = timestamp

    with pytest.raises(InvalidCallback):
        gateway.callback_reference(headers, body)


@pytest.mark.parametrize("age", [timedelta(minutes=10), -timedelta(minutes=10)], ids=["too-old", "too-new"])
def test_a_properly_signed_callback_from_outside_the_tolerance_is_refused(age: timedelta) -> None:
    secret = testmode.new_secret()
    body = b'{"type":"refund.updated","data":{"reference":"tg_re_sync_abc"}}'
    headers = signed(secret, body, at=datetime.now(UTC) - age)

    with pytest.raises(InvalidCallback):
        a_gateway(SettableClock(), secret).callback_reference(headers, body)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b"[]", b'{"type":"refund.updated"}', b'{"type":"refund.updated","data":{"reference":7}}'],
    ids=["not-json", "empty", "not-an-object", "no-data", "reference-not-a-string"],
)
def test_a_properly_signed_callback_whose_body_we_cannot_read_is_refused(body: bytes) -> None:
    secret = testmode.new_secret()
    headers = signed(secret, body)

    with pytest.raises(InvalidCallback):
        a_gateway(SettableClock(), secret).callback_reference(headers, body)


def test_a_callback_whose_body_is_not_utf8_is_refused() -> None:
    gateway = a_gateway(SettableClock())
    headers, _ = gateway.signed_callback("tg_re_sync_abc")

    with pytest.raises(InvalidCallback):
        gateway.callback_reference(headers, b"\xff\xfe")
