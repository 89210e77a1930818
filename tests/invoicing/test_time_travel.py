"""14 months of daily runs: one invoice per period, periods that touch, no
anchor drift, totals to the cent."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from isocnet.core.periods import add_months
from isocnet.invoicing.models import InvoiceLine
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date


def test_fourteen_months_of_daily_runs():
    monthly = make_plan(name="Fiber", price="49.95")
    quarterly = make_plan(name="Email", price="15.00", cycle="quarterly")
    annual = make_plan(name="Domain", price="18.99", cycle="annual")
    start_days = {1: D(2027, 1, 1), 29: D(2027, 1, 29), 30: D(2027, 1, 30), 31: D(2027, 1, 31)}
    subs = {}
    for anchor, start in start_days.items():
        customer = make_customer()
        subs[anchor] = [
            subscribe(customer, monthly, start),
            subscribe(customer, quarterly, start),
            subscribe(customer, annual, start),
        ]
    day, end = D(2026, 12, 15), D(2028, 3, 1)  # 2028 is a leap year
    while day < end:
        run(day)
        day += dt.timedelta(days=1)

    last_billed = end - dt.timedelta(days=1) + dt.timedelta(days=14)  # the lead time bills ahead
    for anchor, (m, q, a) in subs.items():
        for sub, months, price in ((m, 1, "49.95"), (q, 3, "15.00"), (a, 12, "18.99")):
            lines = list(InvoiceLine.objects.filter(subscription=sub).order_by("period_start"))
            starts = [ln.period_start for ln in lines]
            expected = []
            while (
                s := add_months(start_days[anchor], months * len(expected), anchor)
            ) <= last_billed:
                expected.append(s)
            assert starts == expected, (anchor, months)
            for earlier, later in itertools.pairwise(lines):
                assert earlier.period_end == later.period_start  # touch: no gap, no overlap
            assert all(
                ln.amount.as_string() == price for ln in lines
            )  # anchor kept, never prorated
            assert len({ln.invoice_id for ln in lines}) == len(
                lines
            )  # one invoice per period per service
    anchor_31 = [
        ln.period_start
        for ln in InvoiceLine.objects.filter(subscription=subs[31][0]).order_by("period_start")
    ]
    assert anchor_31[:4] == [D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 31), D(2027, 4, 30)]
    assert D(2028, 2, 29) in anchor_31
    total = sum((ln.amount.amount for ln in InvoiceLine.objects.all()), Decimal(0))
    month_lines = InvoiceLine.objects.filter(subscription__plan=monthly).count()
    quarter_lines = InvoiceLine.objects.filter(subscription__plan=quarterly).count()
    annual_lines = InvoiceLine.objects.filter(subscription__plan=annual).count()
    assert (
        total
        == Decimal("49.95") * month_lines
        + Decimal("15.00") * quarter_lines
        + Decimal("18.99") * annual_lines
    )
