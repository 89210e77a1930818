"""36 months of daily billing runs, for services anchored on the 1st, 28th,
29th, 30th and 31st, in four time zones (DST in two of them; Kiritimati is
UTC+14): exactly one invoice per period, periods that touch, no drift."""

import datetime as dt
import itertools
import os

import pytest

from isocnet.core.periods import add_months
from isocnet.invoicing.models import Invoice, InvoiceLine
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]
D = dt.date
ANCHORS = (1, 28, 29, 30, 31)


@pytest.mark.parametrize(
    "zone", ["UTC", "America/Los_Angeles", "Europe/Berlin", "Pacific/Kiritimati"]
)
def test_daily_runs_for_36_months(zone, settings):
    """RELIABILITY_FULL=1: 36 months (the recorded run); otherwise 14
    months (CI), which still crosses both DST changes and a leap day."""
    settings.TIME_ZONE = zone
    monthly = make_plan(name="Fiber", price="49.95")
    quarterly = make_plan(name="Email", price="15.00", cycle="quarterly")
    annual = make_plan(name="Domain", price="18.99", cycle="annual")
    starts = {a: D(2027, 1, a) for a in ANCHORS}
    subs = {}
    for anchor, start in starts.items():
        customer = make_customer()
        subs[anchor] = [subscribe(customer, p, start) for p in (monthly, quarterly, annual)]
    months = 36 if os.environ.get("RELIABILITY_FULL") else 14
    day = D(2026, 12, 20)
    end = add_months(D(2027, 1, 1), months, 1) + dt.timedelta(days=60 if months == 14 else -12)
    runs = 0
    while day < end:
        run(day)
        runs += 1
        day += dt.timedelta(days=1)
    assert runs >= 30 * months
    last_billed = end - dt.timedelta(days=1) + dt.timedelta(days=14)
    for anchor, services in subs.items():
        for sub, months in zip(services, (1, 3, 12), strict=True):
            lines = list(InvoiceLine.objects.filter(subscription=sub).order_by("period_start"))
            expected = []
            while (s := add_months(starts[anchor], months * len(expected), anchor)) <= last_billed:
                expected.append(s)
            assert [ln.period_start for ln in lines] == expected, (zone, anchor, months)
            for earlier, later in itertools.pairwise(lines):
                assert earlier.period_end == later.period_start
            assert len({ln.invoice_id for ln in lines}) == len(lines)
    # the 31st comes back after short months; 2028-02-29 is billed
    on_31 = [
        ln.period_start
        for ln in InvoiceLine.objects.filter(subscription=subs[31][0]).order_by("period_start")
    ]
    assert D(2027, 3, 31) in on_31 and D(2028, 2, 29) in on_31
    sequences = sorted(Invoice.objects.values_list("series", "sequence"))
    for _series, group in itertools.groupby(sequences, key=lambda x: x[0]):
        numbers = [n for _, n in group]
        assert numbers == list(range(1, len(numbers) + 1))  # gapless per yearly series
