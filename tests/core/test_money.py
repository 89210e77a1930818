from decimal import Decimal

import pytest

from isocnet.core.money import CurrencyMismatch, Money, MoneyError


def test_half_up_rounding_at_the_minor_unit():
    assert Money(Decimal("0.005"), "USD").quantize().amount == Decimal("0.01")
    assert Money(Decimal("0.0049999"), "USD").quantize().amount == Decimal("0.00")
    assert Money(Decimal("-0.005"), "USD").quantize().amount == Decimal(
        "-0.01"
    )  # half away from zero
    # Python's round() would give 2.67 (banker's rounding on 2.675 as float)
    assert Money(Decimal("2.675"), "USD").quantize().as_string() == "2.68"
    assert Money(Decimal("12.5"), "JPY").quantize().as_string() == "13"
    assert Money(Decimal("1.2345"), "BHD").quantize().as_string() == "1.235"


def test_minor_units_round_trip_per_currency():
    assert Money.parse("49.95", "USD").minor() == 4995
    assert Money.from_minor(4995, "USD").as_string() == "49.95"
    assert Money.parse("500", "JPY").minor() == 500
    assert Money.from_minor(1235, "BHD").as_string() == "1.235"


def test_minor_refuses_to_round_silently():
    with pytest.raises(MoneyError, match="not rounded"):
        Money(Decimal("1.005"), "USD").minor()


@pytest.mark.parametrize("bad", [1.5, True])
def test_float_and_bool_are_refused(bad):
    with pytest.raises(TypeError):
        Money(bad, "USD")
    with pytest.raises(TypeError):
        Money.parse("1.00", "USD") * bad


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e309",
        "1E2",
        "49.955",
        "1,000.00",
        "١٢",
        "４９.９５",
        "",
        " ",
        "12.",
        ".5",
        "0x10",
        "+5",
        "10000000000.00",
    ],
)
def test_parse_refuses_what_is_not_a_plain_amount(text):
    with pytest.raises(MoneyError):
        Money.parse(text, "USD")


def test_parse_refuses_negative_unless_allowed():
    with pytest.raises(MoneyError, match="negative"):
        Money.parse("-1.00", "USD")
    assert Money.parse("-1.00", "USD", allow_negative=True).minor() == -100


def test_currencies_do_not_mix():
    with pytest.raises(CurrencyMismatch):
        Money.parse("1.00", "USD") + Money.parse("1.00", "EUR")
    with pytest.raises(MoneyError):
        Money(Decimal(1), "usd")
    with pytest.raises(MoneyError):
        Money(Decimal(1), "XYZ")


def test_format_for_people():
    assert Money.parse("1234.50", "USD").format() == "$1,234.50"
    assert Money.parse("0", "USD").format() == "$0.00"
