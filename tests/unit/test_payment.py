"""Payments and refunds: cards as we keep them, card checks, settling once, refunding once, payment status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderline.domain.errors import InvalidCard
from orderline.domain.money import Money
from orderline.domain.payment import (
    Card,
    CardDetails,
    OrderPaymentStatus,
    Payment,
    PaymentStatus,
    PaymentSummary,
    Refund,
    RefundStatus,
    left_to_refund,
    net_paid,
    payment_status,
    payment_summary,
    refundable,
)
from tests.unit.builders import an_id, usd

NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)

VISA = "4242424242424242"
HOLDER: dict[str, str | None] = {
    "name": "Ada Lovelace",
    "address_line1": "12 St James's Square",
    "address_line2": "Flat 3",
    "address_city": "London",
    "address_country": "GB",
    "address_post_code": "SW1Y 4JH",
}


def with_check_digit(partial: str) -> str:
    """``partial`` followed by the digit that makes the whole number pass the Luhn check."""
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(partial)):
        doubled = 2 * digit if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return partial + str(-total % 10)


def parse(
    number: str = VISA,
    *,
    cvc: str = "123",
    exp_month: int = 12,
    exp_year: int = 2030,
    holder: dict[str, str | None] | None = None,
) -> CardDetails:
    return CardDetails.parse(number, cvc, exp_month, exp_year, NOW, **(holder or {}))


def a_card(**holder: str | None) -> Card:
    return Card("4242", "VISA", 12, 2030, **holder)


def a_payment(status: PaymentStatus = PaymentStatus.SUCCEEDED, *, id: int = 1, amount: Money | None = None) -> Payment:
    payment = Payment.start(
        id=an_id(id),
        order_id=an_id(100),
        amount=amount if amount is not None else usd("150.00"),
        card=a_card(),
        card_token="tg_pm_sync_4242",
        gateway="test",
        now=NOW,
    )
    payment.status = status
    return payment


def a_refund(
    payment: Payment, status: RefundStatus = RefundStatus.PENDING, *, id: int = 500, requested_at: datetime = NOW
) -> Refund:
    settled_at = None if status is RefundStatus.PENDING else requested_at
    return Refund(an_id(id), payment.id, payment.order_id, payment.amount, status, requested_at, settled_at=settled_at)


def refunds_in_turn(payment: Payment, statuses: Sequence[RefundStatus]) -> list[Refund]:
    """Refunds of ``payment`` with these statuses, each asked for a minute after the one before."""
    return [
        a_refund(payment, status, id=500 + n, requested_at=NOW + timedelta(minutes=n))
        for n, status in enumerate(statuses)
    ]


# Cards


def test_a_masked_card_shows_only_its_last_four_digits() -> None:
    card = a_card()

    assert card.masked == "************4242"


def test_a_card_without_its_holder_keeps_only_the_money_facts() -> None:
    card = a_card(**HOLDER)

    erased = card.without_holder()

    assert erased == Card("4242", "VISA", 12, 2030)


@pytest.mark.parametrize(
    ("number", "last4", "brand"),
    [
        (VISA, "4242", "VISA"),
        ("378282246310005", "0005", "AMEX"),
        ("5555555555554444", "4444", "MASTERCARD"),
        ("2223003122003222", "3222", "MASTERCARD"),
        ("6011111111111117", "1117", "CARD"),
        (with_check_digit("42424242424"), "4242", "VISA"),
        (with_check_digit("424242424242424242"), with_check_digit("424242424242424242")[-4:], "VISA"),
    ],
    ids=["visa", "amex", "mastercard-51-55", "mastercard-2-series", "other", "12-digits", "19-digits"],
)
def test_a_valid_card_number_is_kept_as_its_last_four_digits_and_brand(number: str, last4: str, brand: str) -> None:
    details = parse(number)

    assert (details.number, details.card.last4, details.card.brand) == (number, last4, brand)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "4242424242424241",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "424242424242424a",
        "４２４２４２４２４２４２４２４２",
        "١٢٣٤٥٦٧٨٩٠١٢٣",
        with_check_digit("4242424242"),
        with_check_digit("4242424242424242424"),
    ],
    ids=[
        "empty",
        "bad-check-digit",
        "spaces",
        "dashes",
        "letter",
        "fullwidth-digits",
        "arabic-indic-digits",
        "11-digits",
        "20-digits",
    ],
)
def test_a_card_number_that_is_not_12_to_19_luhn_valid_digits_is_refused_naming_the_number(number: str) -> None:
    with pytest.raises(InvalidCard) as refused:
        parse(number)

    assert refused.value.details == {"field": "number"}


@pytest.mark.parametrize("cvc", ["123", "1234", "000"])
def test_a_cvc_of_three_or_four_digits_is_accepted(cvc: str) -> None:
    details = parse(cvc=cvc)

    assert details.cvc == cvc


@pytest.mark.parametrize("cvc", ["", "12", "12345", "12a", " 123", "١٢٣"])
def test_a_cvc_that_is_not_three_or_four_digits_is_refused_naming_the_cvc(cvc: str) -> None:
    with pytest.raises(InvalidCard) as refused:
        parse(cvc=cvc)

    assert refused.value.details == {"field": "cvc"}


@pytest.mark.parametrize("exp_month", [-1, 0, 13])
def test_an_expiry_month_outside_1_to_12_is_refused_naming_exp_month(exp_month: int) -> None:
    with pytest.raises(InvalidCard) as refused:
        parse(exp_month=exp_month, exp_year=2030)

    assert refused.value.details == {"field": "expMonth"}


@pytest.mark.parametrize(
    ("exp_month", "exp_year"),
    [(NOW.month - 1, NOW.year), (12, NOW.year - 1), (NOW.month, NOW.year % 100)],
    ids=["last-month", "last-year", "two-digit-year"],
)
def test_an_expired_card_is_refused_naming_the_expiry_year(exp_month: int, exp_year: int) -> None:
    with pytest.raises(InvalidCard) as refused:
        parse(exp_month=exp_month, exp_year=exp_year)

    assert refused.value.details == {"field": "expYear"}


@pytest.mark.parametrize(
    ("exp_month", "exp_year"),
    [(NOW.month, NOW.year), (NOW.month + 1, NOW.year), (1, NOW.year + 1)],
    ids=["this-month", "next-month", "next-year"],
)
def test_a_card_is_accepted_until_the_end_of_its_expiry_month(exp_month: int, exp_year: int) -> None:
    details = parse(exp_month=exp_month, exp_year=exp_year)

    assert (details.card.exp_month, details.card.exp_year) == (exp_month, exp_year)


def test_a_parsed_card_carries_its_holder() -> None:
    details = parse(holder=HOLDER)

    assert details.card == a_card(**HOLDER)


def test_the_repr_of_card_details_shows_neither_the_number_nor_the_cvc() -> None:
    details = parse("5555555555554444", cvc="987", holder=HOLDER)

    shown = repr(details), str(details)

    assert all("5555555555554444" not in text and "987" not in text for text in shown)


# Payments


def test_a_started_payment_is_processing_with_no_reference() -> None:
    payment = a_payment(PaymentStatus.PROCESSING)

    assert (payment.status, payment.reference, payment.created_at) == (PaymentStatus.PROCESSING, None, NOW)


def test_a_payment_that_succeeds_records_the_gateway_reference() -> None:
    payment = a_payment(PaymentStatus.PROCESSING)

    payment.succeed("ch_1", LATER)

    assert (payment.status, payment.reference, payment.updated_at) == (PaymentStatus.SUCCEEDED, "ch_1", LATER)


def test_a_payment_that_fails_records_why() -> None:
    payment = a_payment(PaymentStatus.PROCESSING)

    payment.fail("card_declined", "the card was declined", LATER, "ch_2")

    assert (payment.status, payment.failure_code, payment.failure_message, payment.reference, payment.updated_at) == (
        PaymentStatus.FAILED,
        "card_declined",
        "the card was declined",
        "ch_2",
        LATER,
    )


SETTLE_PAYMENT: dict[str, Callable[[Payment, datetime], None]] = {
    "succeed": lambda payment, now: payment.succeed("ch_1", now),
    "fail": lambda payment, now: payment.fail("card_declined", "the card was declined", now, "ch_1"),
}


@pytest.mark.parametrize("first", sorted(SETTLE_PAYMENT))
@pytest.mark.parametrize("second", sorted(SETTLE_PAYMENT))
def test_a_settled_payment_cannot_be_settled_again_and_is_left_as_it_was(first: str, second: str) -> None:
    payment = a_payment(PaymentStatus.PROCESSING)
    SETTLE_PAYMENT[first](payment, LATER)
    before = replace(payment)

    with pytest.raises(ValueError, match="already"):
        SETTLE_PAYMENT[second](payment, LATER + timedelta(minutes=1))

    assert payment == before


# Refunds


def test_a_refund_is_requested_pending_for_the_whole_captured_amount() -> None:
    payment = a_payment(amount=usd("42.50"))

    refund = Refund.request(id=an_id(500), payment=payment, refunds=[], now=LATER)

    assert refund == Refund(an_id(500), payment.id, payment.order_id, usd("42.50"), RefundStatus.PENDING, LATER)


@pytest.mark.parametrize("status", [s for s in PaymentStatus if s is not PaymentStatus.SUCCEEDED])
def test_a_payment_that_was_not_captured_cannot_be_refunded(status: PaymentStatus) -> None:
    payment = a_payment(status)

    with pytest.raises(ValueError, match="nothing left to refund"):
        Refund.request(id=an_id(500), payment=payment, refunds=[], now=LATER)


@pytest.mark.parametrize("status", [RefundStatus.PENDING, RefundStatus.SUCCEEDED])
def test_a_payment_with_a_refund_pending_or_done_cannot_be_refunded_again(status: RefundStatus) -> None:
    payment = a_payment()
    earlier = a_refund(payment, status)

    with pytest.raises(ValueError, match="nothing left to refund"):
        Refund.request(id=an_id(501), payment=payment, refunds=[earlier], now=LATER)


def test_a_payment_whose_refund_failed_can_be_refunded_again() -> None:
    payment = a_payment()
    failed = a_refund(payment, RefundStatus.FAILED)

    retry = Refund.request(id=an_id(501), payment=payment, refunds=[failed], now=LATER)

    assert (retry.status, retry.amount) == (RefundStatus.PENDING, payment.amount)


def test_a_refund_of_another_payment_does_not_stop_this_one_being_refunded() -> None:
    payment, other = a_payment(id=1), a_payment(id=2)

    refund = Refund.request(id=an_id(501), payment=payment, refunds=[a_refund(other)], now=LATER)

    assert refund.payment_id == payment.id


def test_a_refund_that_succeeds_records_the_reference_and_when() -> None:
    refund = a_refund(a_payment())

    refund.succeed("re_1", LATER)

    assert (refund.status, refund.reference, refund.settled_at, refund.settled) == (
        RefundStatus.SUCCEEDED,
        "re_1",
        LATER,
        True,
    )


def test_a_refund_that_fails_keeps_the_reference_it_already_had() -> None:
    refund = a_refund(a_payment())
    refund.reference = "re_1"

    refund.fail("the issuer refused", LATER)

    assert (refund.status, refund.reference, refund.failure_message, refund.settled_at) == (
        RefundStatus.FAILED,
        "re_1",
        "the issuer refused",
        LATER,
    )


@pytest.mark.parametrize("status", [RefundStatus.SUCCEEDED, RefundStatus.FAILED])
def test_a_settled_refund_cannot_be_settled_again(status: RefundStatus) -> None:
    refund = a_refund(a_payment(), status)

    with pytest.raises(ValueError, match="already"):
        refund.succeed("re_again", LATER)


# What is refundable


def test_a_captured_payment_with_no_refund_is_refundable() -> None:
    payment = a_payment()

    assert refundable([payment], []) is payment


@pytest.mark.parametrize("status", [s for s in PaymentStatus if s is not PaymentStatus.SUCCEEDED])
def test_a_payment_that_was_not_captured_is_not_refundable(status: PaymentStatus) -> None:
    payment = a_payment(status)

    assert refundable([payment], []) is None


@pytest.mark.parametrize(
    ("statuses", "still_refundable"),
    [
        ([RefundStatus.PENDING], False),
        ([RefundStatus.SUCCEEDED], False),
        ([RefundStatus.FAILED], True),
        ([RefundStatus.FAILED, RefundStatus.FAILED], True),
        ([RefundStatus.FAILED, RefundStatus.PENDING], False),
        ([RefundStatus.FAILED, RefundStatus.SUCCEEDED], False),
    ],
)
def test_a_captured_payment_is_refundable_only_while_every_refund_of_it_has_failed(
    statuses: list[RefundStatus], still_refundable: bool
) -> None:
    payment = a_payment()

    found = refundable([payment], refunds_in_turn(payment, statuses))

    assert (found is payment) is still_refundable


def test_the_refundable_payment_is_the_captured_one_among_the_orders_payments() -> None:
    failed, captured = a_payment(PaymentStatus.FAILED, id=1), a_payment(id=2)

    assert refundable([failed, captured], []) is captured


# An order's payment status


@pytest.mark.parametrize(
    "statuses",
    [[], [PaymentStatus.PROCESSING], [PaymentStatus.FAILED], [PaymentStatus.FAILED, PaymentStatus.CANCELLED]],
)
def test_an_order_with_no_captured_payment_is_unpaid(statuses: list[PaymentStatus]) -> None:
    payments = [a_payment(status, id=n) for n, status in enumerate(statuses)]

    assert payment_status(payments, []) is OrderPaymentStatus.UNPAID


def test_an_order_with_a_captured_payment_and_no_refund_is_paid() -> None:
    payments = [a_payment(PaymentStatus.FAILED, id=1), a_payment(id=2)]

    assert payment_status(payments, []) is OrderPaymentStatus.PAID


@pytest.mark.parametrize(
    ("refund", "expected"),
    [
        (RefundStatus.PENDING, OrderPaymentStatus.REFUND_PENDING),
        (RefundStatus.SUCCEEDED, OrderPaymentStatus.REFUNDED),
        (RefundStatus.FAILED, OrderPaymentStatus.REFUND_FAILED),
    ],
)
def test_an_order_with_a_refund_takes_its_payment_status_from_the_refund(
    refund: RefundStatus, expected: OrderPaymentStatus
) -> None:
    payment = a_payment()

    assert payment_status([payment], [a_refund(payment, refund)]) is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([RefundStatus.FAILED, RefundStatus.PENDING], OrderPaymentStatus.REFUND_PENDING),
        ([RefundStatus.FAILED, RefundStatus.SUCCEEDED], OrderPaymentStatus.REFUNDED),
        ([RefundStatus.FAILED, RefundStatus.FAILED], OrderPaymentStatus.REFUND_FAILED),
        ([RefundStatus.FAILED, RefundStatus.FAILED, RefundStatus.SUCCEEDED], OrderPaymentStatus.REFUNDED),
    ],
)
@pytest.mark.parametrize("listed", ["oldest-first", "newest-first"])
def test_the_latest_refund_decides_the_payment_status_however_the_refunds_are_listed(
    statuses: list[RefundStatus], expected: OrderPaymentStatus, listed: str
) -> None:
    payment = a_payment()
    refunds = refunds_in_turn(payment, statuses)
    if listed == "newest-first":
        refunds.reverse()

    assert payment_status([payment], refunds) is expected


def test_a_refund_of_a_payment_that_was_not_captured_does_not_count() -> None:
    captured, failed = a_payment(id=1), a_payment(PaymentStatus.FAILED, id=2)
    stray = a_refund(failed, RefundStatus.SUCCEEDED, requested_at=LATER)

    assert payment_status([captured, failed], [stray]) is OrderPaymentStatus.PAID


# Partial refunds (removed lines, ADR 0022)


def part_of(payment: Payment, minor: int, status: RefundStatus, minute: int, settled: int | None = None) -> Refund:
    at = NOW + timedelta(minutes=minute)
    settled_at = None if status is RefundStatus.PENDING else NOW + timedelta(minutes=settled or minute)
    return Refund(an_id(600 + minute), payment.id, payment.order_id, Money(minor, "USD"), status, at,
                  settled_at=settled_at, partial=True)  # fmt: skip


def test_a_refund_of_part_of_a_payment_leaves_it_partially_refunded() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))

    status = payment_status([payment], [part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1)])

    assert status is OrderPaymentStatus.PARTIALLY_REFUNDED


def test_parts_that_add_up_to_the_payment_leave_it_refunded() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1), part_of(payment, 7_500, RefundStatus.SUCCEEDED, 2)]

    assert payment_status([payment], parts) is OrderPaymentStatus.REFUNDED


def test_a_failed_part_stays_refund_failed_until_a_refund_is_asked_after_it_failed() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    failed = part_of(payment, 2_500, RefundStatus.FAILED, 1)
    # asked while the failed one was still pending: it could not ask for its amount again
    overlapping = part_of(payment, 1_000, RefundStatus.SUCCEEDED, 0, settled=5)
    retried = part_of(payment, 3_500, RefundStatus.SUCCEEDED, 2)

    assert payment_status([payment], [overlapping, failed]) is OrderPaymentStatus.REFUND_FAILED
    assert payment_status([payment], [failed, retried]) is OrderPaymentStatus.PARTIALLY_REFUNDED


def test_any_refund_still_pending_shows_as_refund_pending() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [part_of(payment, 2_500, RefundStatus.PENDING, 1), part_of(payment, 1_000, RefundStatus.SUCCEEDED, 2)]

    assert payment_status([payment], parts) is OrderPaymentStatus.REFUND_PENDING


def test_what_is_left_to_refund_is_the_capture_minus_refunds_pending_or_done() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [
        part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1),
        part_of(payment, 1_000, RefundStatus.PENDING, 2),
        part_of(payment, 4_000, RefundStatus.FAILED, 3),
    ]

    assert left_to_refund(payment, parts) == Money(6_500, "USD")
    assert net_paid([payment], parts, "USD") == Money(6_500, "USD")


def test_a_refund_of_more_than_is_left_is_a_bug() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [part_of(payment, 9_000, RefundStatus.SUCCEEDED, 1)]

    with pytest.raises(ValueError, match=r"only 10\.00 left"):
        Refund.request(id=an_id(1), payment=payment, refunds=parts, now=LATER, amount=Money(1_001, "USD"))


def test_a_refund_asks_for_what_is_left_by_default() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [part_of(payment, 9_000, RefundStatus.SUCCEEDED, 1)]

    refund = Refund.request(id=an_id(1), payment=payment, refunds=parts, now=LATER)

    assert (refund.amount, refund.partial) == (Money(1_000, "USD"), False)


# What an order's facts add up to: its status, what was captured, what came back


def test_an_order_with_no_payment_has_nothing_captured_and_nothing_refunded() -> None:
    summary = payment_summary([], [], "EUR")

    assert summary == PaymentSummary(OrderPaymentStatus.UNPAID, Money.zero("EUR"), Money.zero("EUR"))


def test_only_captured_payments_count_as_paid() -> None:
    payments = [
        a_payment(PaymentStatus.FAILED, id=1, amount=Money(4_000, "USD")),
        a_payment(PaymentStatus.PROCESSING, id=2, amount=Money(3_000, "USD")),
        a_payment(id=3, amount=Money(10_000, "USD")),
    ]

    summary = payment_summary(payments, [], "USD")

    assert summary == PaymentSummary(OrderPaymentStatus.PAID, Money(10_000, "USD"), Money.zero("USD"))


def test_only_refunds_that_succeeded_count_as_refunded() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [
        part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1),
        part_of(payment, 4_000, RefundStatus.FAILED, 2),
        part_of(payment, 1_000, RefundStatus.PENDING, 3),
    ]

    summary = payment_summary([payment], parts, "USD")

    assert summary == PaymentSummary(OrderPaymentStatus.REFUND_PENDING, Money(10_000, "USD"), Money(2_500, "USD"))


def test_a_partial_refund_that_settles_shows_its_amount_beside_the_whole_capture() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))

    summary = payment_summary([payment], [part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1)], "USD")

    assert summary == PaymentSummary(OrderPaymentStatus.PARTIALLY_REFUNDED, Money(10_000, "USD"), Money(2_500, "USD"))


def test_a_cancel_after_a_partial_refund_shows_everything_captured_as_refunded() -> None:
    payment = a_payment(amount=Money(10_000, "USD"))
    parts = [part_of(payment, 2_500, RefundStatus.SUCCEEDED, 1), part_of(payment, 7_500, RefundStatus.SUCCEEDED, 2)]

    summary = payment_summary([payment], parts, "USD")

    assert summary == PaymentSummary(OrderPaymentStatus.REFUNDED, Money(10_000, "USD"), Money(10_000, "USD"))


def test_a_refund_of_a_payment_that_was_not_captured_is_not_counted_as_refunded() -> None:
    captured, failed = a_payment(id=1), a_payment(PaymentStatus.FAILED, id=2)
    stray = a_refund(failed, RefundStatus.SUCCEEDED, requested_at=LATER)

    summary = payment_summary([captured, failed], [stray], "USD")

    assert (summary.captured, summary.refunded) == (usd("150.00"), usd("0.00"))


# Money is conserved


Step = tuple[str, int, bool]  # ("request" or "settle", which payment or pending refund, whether it succeeds)


@st.composite
def refund_histories(draw: st.DrawFn) -> tuple[list[Payment], list[Step]]:
    """An order's payments (any statuses and amounts) and a sequence of steps: ask for a refund, or settle one."""
    statuses = draw(st.lists(st.sampled_from(PaymentStatus), min_size=1, max_size=3))
    payments = [
        a_payment(status, id=n, amount=Money(draw(st.integers(1, 10**9)), "USD")) for n, status in enumerate(statuses)
    ]
    steps = draw(st.lists(st.tuples(st.sampled_from(["request", "settle"]), st.integers(0, 10), st.booleans())))
    return payments, steps


def take_step(payments: list[Payment], refunds: list[Refund], step: Step, now: datetime) -> None:
    """Settle a pending refund, or ask for one the only way allowed: Refund.request of what ``refundable`` gives."""
    kind, pick, succeeds = step
    pending = [r for r in refunds if r.status is RefundStatus.PENDING]
    if kind == "settle" and pending:
        refund = pending[pick % len(pending)]
        if succeeds:
            refund.succeed(f"re_{now.timestamp()}", now)
        else:
            refund.fail("refused", now)
    elif kind == "request" and (payment := refundable(payments, refunds)) is not None:
        refunds.append(Refund.request(id=an_id(1000 + len(refunds)), payment=payment, refunds=refunds, now=now))
    elif kind == "request":
        with pytest.raises(ValueError, match="nothing left to refund"):
            Refund.request(id=an_id(999), payment=payments[pick % len(payments)], refunds=refunds, now=now)


def returned_minor(refunds: list[Refund]) -> int:
    return sum(r.amount.amount_minor for r in refunds if r.status is RefundStatus.SUCCEEDED)


@given(refund_histories())
def test_refunds_asked_for_only_through_refund_request_never_return_more_than_was_captured(
    history: tuple[list[Payment], list[Step]],
) -> None:
    payments, steps = history
    captured = sum(p.amount.amount_minor for p in payments if p.status is PaymentStatus.SUCCEEDED)
    refunds: list[Refund] = []
    returned: list[int] = []

    for n, step in enumerate(steps):
        take_step(payments, refunds, step, NOW + timedelta(seconds=n))
        returned.append(returned_minor(refunds))
    for refund in refunds:  # the worst case for the money: every refund still pending succeeds
        if not refund.settled:
            refund.succeed("re_last", LATER + timedelta(days=1))
    returned.append(returned_minor(refunds))

    assert max(returned) <= captured


@given(refund_histories())
def test_the_summary_status_is_the_payment_status_and_never_more_comes_back_than_was_captured(
    history: tuple[list[Payment], list[Step]],
) -> None:
    payments, steps = history
    refunds: list[Refund] = []
    for n, step in enumerate(steps):
        take_step(payments, refunds, step, NOW + timedelta(seconds=n))

    summary = payment_summary(payments, refunds, "USD")

    assert summary.status is payment_status(payments, refunds)
    assert 0 <= summary.refunded.amount_minor <= summary.captured.amount_minor
