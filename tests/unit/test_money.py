"""Money: parsing and formatting, currency rules, arithmetic, and largest-remainder allocation."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderline.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from orderline.domain.money import MAX_MINOR, MINOR_UNITS, Money, total

# The parser accepts at most 15 digits before the decimal point.
MAX_UNITS = 10**15 - 1

currencies = st.sampled_from(sorted(MINOR_UNITS))


@st.composite
def decimal_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A canonical decimal string for a currency: no leading zeros, exactly its minor digits, no "-0"."""
    currency = draw(currencies)
    exponent = MINOR_UNITS[currency]
    minor = draw(st.integers(min_value=-MAX_UNITS * 10**exponent, max_value=MAX_UNITS * 10**exponent))
    units, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    text = f"{sign}{units}.{fraction:0{exponent}d}" if exponent else f"{sign}{units}"
    return text, currency


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("150.00", "USD", 15000),
        ("0.01", "EUR", 1),
        ("150", "USD", 15000),
        ("150.5", "USD", 15050),
        ("-12.34", "GBP", -1234),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("1.2", "KWD", 1200),
    ],
)
def test_a_decimal_string_parses_to_integer_minor_units(text: str, currency: str, minor: int) -> None:
    parsed = Money.parse(text, currency)

    assert parsed == Money(minor, currency)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(15000, "USD"), "150.00"),
        (Money(5, "USD"), "0.05"),
        (Money(0, "USD"), "0.00"),
        (Money(-5, "USD"), "-0.05"),
        (Money(-1234, "GBP"), "-12.34"),
        (Money(1500, "JPY"), "1500"),
        (Money(-7, "JPY"), "-7"),
        (Money(1234, "KWD"), "1.234"),
        (Money(5, "KWD"), "0.005"),
        (Money(-1005, "KWD"), "-1.005"),
    ],
)
def test_money_formats_with_exactly_the_currencys_minor_digits(money: Money, text: str) -> None:
    formatted = str(money)

    assert formatted == text


@pytest.mark.parametrize(
    ("text", "currency"),
    [("150.001", "USD"), ("150.0", "JPY"), ("1.2345", "KWD")],
)
def test_more_decimal_places_than_the_currency_has_are_refused(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        Money.parse(text, currency)

    assert refused.value.details == {"amount": text}


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1,50", "1.", ".5", "+1.00", "1e3", " 1.00", "1.00 ", "1.00\n", "--1", "1234567890123456"],
)
def test_text_that_is_not_a_plain_decimal_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, "USD")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u0661\u0665\u0660.\u0660\u0660", id="arabic-indic-digits"),
        pytest.param("\uff11\uff15\uff10.\uff10\uff10", id="fullwidth-digits"),
        pytest.param("150.\u0660\u0660", id="arabic-indic-fraction"),
    ],
)
def test_digits_outside_ascii_are_refused(text: str) -> None:
    # Wire amounts are ASCII decimals such as "150.00"; a str regex's \d also matches other scripts' digits.
    with pytest.raises(InvalidAmount):
        Money.parse(text, "USD")


@pytest.mark.parametrize(("text", "currency"), [("999999999999999.99", "USD"), ("-999999999999999", "JPY")])
def test_fifteen_whole_digits_are_accepted(text: str, currency: str) -> None:
    parsed = Money.parse(text, currency)

    assert str(parsed) == text


def test_negative_zero_parses_to_zero() -> None:
    parsed = Money.parse("-0.00", "USD")

    assert parsed == Money(0, "USD")
    assert str(parsed) == "0.00"


@pytest.mark.parametrize("currency", ["XXX", "usd", "", "BTC"])
def test_an_unknown_currency_is_refused_when_parsing(currency: str) -> None:
    with pytest.raises(UnknownCurrency) as refused:
        Money.parse("1.00", currency)

    assert refused.value.details == {"currency": currency}


def test_an_unknown_currency_is_refused_when_constructing() -> None:
    with pytest.raises(UnknownCurrency):
        Money(100, "XXX")


def test_amounts_of_one_currency_add_and_subtract() -> None:
    a, b = Money.parse("10.50", "USD"), Money.parse("0.75", "USD")

    assert (a + b, a - b, b - a) == (
        Money.parse("11.25", "USD"),
        Money.parse("9.75", "USD"),
        Money.parse("-9.75", "USD"),
    )


def test_an_amount_multiplies_by_a_quantity() -> None:
    price = Money.parse("12.50", "USD")

    assert price * 3 == Money.parse("37.50", "USD")


def test_amounts_of_one_currency_compare() -> None:
    small, large = Money(1, "KWD"), Money(2, "KWD")

    assert small < large
    assert small <= large
    assert small <= Money(1, "KWD")
    assert not large < small
    assert large > small


def test_the_same_amount_in_another_currency_is_not_equal() -> None:
    usd, eur = Money(100, "USD"), Money(100, "EUR")

    assert usd != eur


@pytest.mark.parametrize(
    "combine",
    [
        pytest.param(lambda a, b: a + b, id="add"),
        pytest.param(lambda a, b: a - b, id="subtract"),
        pytest.param(lambda a, b: a < b, id="less-than"),
        pytest.param(lambda a, b: a <= b, id="less-or-equal"),
        pytest.param(lambda a, b: a > b, id="greater-than"),
    ],
)
def test_amounts_of_different_currencies_do_not_combine(combine: Callable[[Money, Money], object]) -> None:
    usd, eur = Money(100, "USD"), Money(100, "EUR")

    with pytest.raises(CurrencyMismatch) as refused:
        combine(usd, eur)

    assert sorted(refused.value.details["currencies"]) == ["EUR", "USD"]


def test_total_sums_amounts_of_one_currency() -> None:
    amounts = [Money(150, "USD"), Money(250, "USD"), Money(-50, "USD")]

    assert total(amounts, "USD") == Money(350, "USD")


def test_total_of_nothing_is_zero_in_the_currency() -> None:
    assert total([], "JPY") == Money.zero("JPY")


def test_total_refuses_an_amount_in_another_currency() -> None:
    with pytest.raises(CurrencyMismatch):
        total([Money(1, "USD"), Money(1, "EUR")], "USD")


@pytest.mark.parametrize(
    ("amount", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (11, [2, 3, 5], [2, 3, 6]),
        (5, [1, 1], [3, 2]),
        (10, [1, 0, 1], [5, 0, 5]),
        (7, [0, 1], [0, 7]),
        (0, [1, 2], [0, 0]),
        (-10, [1, 1, 1], [-3, -3, -4]),
    ],
)
def test_allocation_gives_leftover_units_to_the_largest_remainders(
    amount: int, weights: list[int], parts: list[int]
) -> None:
    allocated = Money(amount, "USD").allocate(weights)

    assert allocated == [Money(part, "USD") for part in parts]


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1], [-1, 2]])
def test_allocation_refuses_weights_that_do_not_share_anything(weights: list[int]) -> None:
    with pytest.raises(InvalidAmount):
        Money(100, "USD").allocate(weights)


@settings(database=None)
@given(decimal_texts())
def test_a_canonical_decimal_string_survives_parse_and_format(case: tuple[str, str]) -> None:
    text, currency = case

    assert str(Money.parse(text, currency)) == text


@st.composite
def parseable_money(draw: st.DrawFn) -> Money:
    """Money whose whole units fit the parser's 15 digits."""
    currency = draw(currencies)
    bound = (MAX_UNITS + 1) * 10 ** MINOR_UNITS[currency] - 1
    return Money(draw(st.integers(min_value=-bound, max_value=bound)), currency)


@settings(database=None)
@given(parseable_money())
def test_formatted_money_parses_back_to_the_same_money(money: Money) -> None:
    text = str(money)

    assert Money.parse(text, money.currency) == money


amounts = st.builds(Money, st.integers(min_value=-(10**12), max_value=10**12), currencies)
weight_lists = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=20).filter(
    lambda weights: sum(weights) > 0
)


@settings(database=None)
@given(amounts, weight_lists)
def test_allocated_parts_sum_to_the_whole(money: Money, weights: list[int]) -> None:
    parts = money.allocate(weights)

    assert len(parts) == len(weights)
    assert sum(part.amount_minor for part in parts) == money.amount_minor


@settings(database=None)
@given(amounts, weight_lists)
def test_allocated_parts_keep_the_currency(money: Money, weights: list[int]) -> None:
    parts = money.allocate(weights)

    assert {part.currency for part in parts} <= {money.currency}


@settings(database=None)
@given(amounts, st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=20))
def test_each_allocated_part_is_within_one_minor_unit_of_its_exact_share(money: Money, weights: list[int]) -> None:
    parts = money.allocate(weights)

    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(money.amount_minor * weight, sum(weights))
        assert abs(part.amount_minor - exact) < 1


@settings(database=None)
@given(amounts, weight_lists)
def test_a_zero_weight_gets_nothing(money: Money, weights: list[int]) -> None:
    parts = money.allocate(weights)

    assert all(part.amount_minor == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@settings(database=None)
@given(amounts, weight_lists)
def test_allocation_is_deterministic(money: Money, weights: list[int]) -> None:
    first = money.allocate(weights)

    second = money.allocate(list(weights))

    assert first == second


def test_amounts_beyond_a_signed_64_bit_integer_are_refused_either_way() -> None:
    assert Money(MAX_MINOR, "USD").amount_minor == MAX_MINOR
    assert Money(-MAX_MINOR, "USD").amount_minor == -MAX_MINOR
    for beyond in (MAX_MINOR + 1, -MAX_MINOR - 1):
        with pytest.raises(InvalidAmount):
            Money(beyond, "USD")


def test_an_unknown_currency_has_no_zero() -> None:
    with pytest.raises(UnknownCurrency):
        Money.zero("XXX")
    Money.zero("USD")
    with pytest.raises(UnknownCurrency):  # still, after a zero of another currency was made
        Money.zero("XXX")


def test_zero_is_the_same_value_each_time() -> None:
    assert Money.zero("EUR") == Money(0, "EUR")
    assert Money.zero("EUR") is Money.zero("EUR")
    assert Money.zero("JPY") != Money.zero("EUR")
