from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from isocnet.core.money import Money
from isocnet.invoicing.engine.totals import TaxKey, compute_totals, line_amount, tax_for

USD = "USD"
TAX_A = TaxKey("Sales tax", Decimal("8.25"))
TAX_B = TaxKey("County tax", Decimal("1.5"))


def m(text):
    return Money.parse(text, USD)


def test_line_amount_is_rounded_once_half_up():
    # 3 x 0.335 = 1.005 -> 1.01 (half up), not 1.00
    assert line_amount(Decimal(3), Money(Decimal("0.335"), USD)).as_string() == "1.01"
    # a prorated quantity: 49.95 x 17/30 = 28.305 -> 28.31
    assert line_amount(Decimal(17) / Decimal(30), m("49.95")).as_string() == "28.31"


def test_tax_is_computed_per_rate_on_the_rate_total_not_per_line():
    # Three lines of 0.10 at 8.25 %: per line 0.00825 -> 0.01 each = 0.03;
    # on the rate's total 0.30 -> 0.02475 -> 0.02 (EN 16931 BR-CO-17).
    totals = compute_totals([(m("0.10"), (TAX_A,))] * 3, USD)
    assert totals.tax_total.as_string() == "0.02"
    assert totals.total.as_string() == "0.32"


def test_two_rates_make_two_tax_lines():
    totals = compute_totals(
        [(m("100.00"), (TAX_A,)), (m("10.00"), (TAX_B,)), (m("49.95"), ())], USD
    )
    assert [(t.key.name, t.taxable.as_string(), t.tax.as_string()) for t in totals.taxes] == [
        ("County tax", "10.00", "0.15"),
        ("Sales tax", "100.00", "8.25"),
    ]
    assert totals.subtotal.as_string() == "159.95"
    assert totals.total.as_string() == "168.35"


def test_tax_exempt_customer_pays_no_tax():
    totals = compute_totals([(m("100.00"), (TAX_A,))], USD, tax_exempt=True)
    assert totals.taxes == ()
    assert totals.total.as_string() == "100.00"


amounts = st.integers(min_value=-(10**8), max_value=10**9).map(lambda c: Money.from_minor(c, USD))
keys = st.lists(
    st.sampled_from([TAX_A, TAX_B, TaxKey("VAT", Decimal("19")), TaxKey("Odd", Decimal("7.1234"))]),
    max_size=3,
    unique=True,
).map(tuple)


@given(st.lists(st.tuples(amounts, keys), max_size=60), st.booleans())
def test_totals_are_exact_sums_of_rounded_parts(lines, exempt):
    totals = compute_totals(lines, USD, tax_exempt=exempt)
    net = sum((a.minor() for a, _ in lines), 0)
    assert totals.subtotal.minor() == net
    assert totals.tax_total.minor() == sum(t.tax.minor() for t in totals.taxes)
    assert totals.total.minor() == net + totals.tax_total.minor()
    for summary in totals.taxes:
        base = sum(a.minor() for a, k in lines if summary.key in k)
        assert summary.taxable.minor() == base
        assert summary.tax == tax_for(summary.taxable, summary.key.percent)
        assert summary.tax.is_exact
    if exempt:
        assert totals.taxes == ()


def test_a_line_with_state_and_county_tax():
    totals = compute_totals([(m("100.00"), (TAX_A, TAX_B)), (m("50.00"), (TAX_A,))], USD)
    assert [(t.key.name, t.taxable.as_string(), t.tax.as_string()) for t in totals.taxes] == [
        ("County tax", "100.00", "1.50"),
        ("Sales tax", "150.00", "12.38"),
    ]
    assert totals.total.as_string() == "163.88"
