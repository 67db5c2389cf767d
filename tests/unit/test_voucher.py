"""Vouchers: what they take off, when they refuse, and how uses are counted and given back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderline.domain.errors import InvalidVoucher, VoucherNotApplicable
from orderline.domain.money import Money
from orderline.domain.voucher import Voucher, check_code

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def a_voucher(**fields: object) -> Voucher:
    values: dict[str, object] = {"id": uuid.UUID(int=1), "code": "SPRING10", "percent_off": 10, "amount_off": None,
                                 "max_uses": None, "expires_at": None, "created_at": NOW} | fields  # fmt: skip
    return Voucher(**values)  # type: ignore[arg-type]


def test_a_percentage_is_rounded_down_to_the_minor_unit() -> None:
    voucher = a_voucher(percent_off=15)

    assert voucher.discount_on(Money.parse("0.99", "USD"), NOW) == Money.parse("0.14", "USD")


def test_an_amount_off_is_capped_at_the_subtotal() -> None:
    voucher = a_voucher(percent_off=None, amount_off=Money.parse("20.00", "USD"))

    assert voucher.discount_on(Money.parse("12.50", "USD"), NOW) == Money.parse("12.50", "USD")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"expires_at": NOW}, "expired"),
        ({"max_uses": 2, "uses": 2}, "used-up"),
        ({"percent_off": None, "amount_off": Money.parse("5.00", "EUR")}, "currency"),
    ],
)
def test_an_unusable_voucher_says_why(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(VoucherNotApplicable) as refused:
        a_voucher(**fields).discount_on(Money.parse("10.00", "USD"), NOW)

    assert refused.value.details["reason"] == reason


def test_a_voucher_still_valid_a_moment_before_it_expires() -> None:
    voucher = a_voucher(expires_at=NOW + timedelta(seconds=1))

    assert voucher.discount_on(Money.parse("10.00", "USD"), NOW) == Money.parse("1.00", "USD")


@pytest.mark.parametrize(
    "fields",
    [{"percent_off": None}, {"amount_off": Money.parse("1.00", "USD")}, {"percent_off": 0}, {"percent_off": 101},
     {"max_uses": 0}, {"percent_off": None, "amount_off": Money.zero("USD")}],
)  # fmt: skip
def test_a_voucher_breaking_a_rule_cannot_exist(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidVoucher):
        a_voucher(**fields)


def test_uses_are_counted_and_given_back_but_never_below_zero() -> None:
    voucher = a_voucher()

    voucher.use()
    voucher.free()
    voucher.free()

    assert voucher.uses == 0


def test_codes_are_upper_case_and_checked() -> None:
    assert check_code(" spring-10 ") == "SPRING-10"
    with pytest.raises(InvalidVoucher):
        check_code("no spaces")


@given(st.text(max_size=80))
def test_a_checked_code_fits_its_column_and_is_already_normalised(code: str) -> None:
    try:
        stored = check_code(code)
    except InvalidVoucher:
        return

    assert stored.isascii()
    assert stored == stored.upper()
    assert len(stored) <= 32
    assert check_code(stored) == stored


@pytest.mark.parametrize("code", ["ßßß", "ıab", "ﬀab", "ſab"], ids=["sharp-s", "dotless-i", "ligature", "long-s"])
def test_a_code_that_only_upper_cases_into_ascii_is_refused(code: str) -> None:
    with pytest.raises(InvalidVoucher):
        check_code(code)


@pytest.mark.parametrize("max_uses", [0, 2**31], ids=["zero", "beyond-int32"])
def test_a_use_limit_outside_what_is_stored_is_refused(max_uses: int) -> None:
    with pytest.raises(InvalidVoucher):
        a_voucher(max_uses=max_uses)


def test_an_order_below_the_minimum_subtotal_is_refused_the_voucher() -> None:
    voucher = a_voucher(min_subtotal=Money.parse("50.00", "USD"))

    with pytest.raises(VoucherNotApplicable) as refused:
        voucher.discount_on(Money.parse("49.99", "USD"), NOW)

    assert refused.value.details == {"reason": "minimum"}


def test_an_order_at_the_minimum_subtotal_gets_the_discount() -> None:
    voucher = a_voucher(min_subtotal=Money.parse("50.00", "USD"))

    assert voucher.discount_on(Money.parse("50.00", "USD"), NOW) == Money.parse("5.00", "USD")


def test_a_minimum_in_another_currency_refuses_the_order() -> None:
    voucher = a_voucher(min_subtotal=Money.parse("50.00", "EUR"))

    with pytest.raises(VoucherNotApplicable) as refused:
        voucher.discount_on(Money.parse("80.00", "USD"), NOW)

    assert refused.value.details == {"reason": "currency"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"min_subtotal": Money(0, "USD")}, "minSubtotal"),
        ({"percent_off": None, "amount_off": Money(500, "USD"), "min_subtotal": Money(5000, "EUR")}, "minSubtotal"),
    ],
)
def test_a_minimum_that_is_zero_or_in_another_currency_than_the_amount_off_is_refused(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidVoucher) as refused:
        a_voucher(**fields)

    assert refused.value.details == {"field": field}
