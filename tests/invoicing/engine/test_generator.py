"""The billing rules, on the pure engine."""

import datetime as dt
from decimal import Decimal

from isocnet.core.money import Money
from isocnet.invoicing.engine.generator import SubscriptionState, due_lines, period_for
from isocnet.invoicing.engine.proration import remainder_charge, unused_part
from isocnet.invoicing.engine.totals import TaxKey, line_amount

D = dt.date


def state(**kw) -> SubscriptionState:
    base = {
        "id": 1,
        "plan_name": "Fiber 100 Mbps",
        "description": "1 Main St",
        "cycle": "monthly",
        "unit_price": Money(Decimal("49.95"), "USD"),
        "quantity": 1,
        "setup_fee": Money(Decimal(0), "USD"),
        "taxes": (),
        "start_date": D(2026, 12, 1),
        "next_due_date": D(2026, 12, 1),
        "anchor_day": 1,
        "status": "active",
    }
    base.update(kw)
    return SubscriptionState(**base)


def amounts(outcome):
    return [line_amount(line.quantity, line.unit_price).as_string() for line in outcome.lines]


def test_nothing_before_the_lead_time():
    assert due_lines(state(), date=D(2026, 11, 16), lead_days=14).lines == []


def test_billed_in_advance_within_the_lead_time_with_the_period_in_the_description():
    outcome = due_lines(state(), date=D(2026, 11, 17), lead_days=14)
    (line,) = outcome.lines
    assert line.description == "Fiber 100 Mbps — 1 Main St (12/01/2026 – 12/31/2026)"
    assert (line.period_start, line.period_end, line.due_date) == (
        D(2026, 12, 1),
        D(2027, 1, 1),
        D(2026, 12, 1),
    )
    assert outcome.next_due_date == D(2027, 1, 1)


def test_missed_periods_are_caught_up_one_line_each():
    outcome = due_lines(
        state(next_due_date=D(2026, 9, 1), start_date=D(2026, 9, 1)),
        date=D(2026, 11, 20),
        lead_days=0,
    )
    assert [line.period_start for line in outcome.lines] == [
        D(2026, 9, 1),
        D(2026, 10, 1),
        D(2026, 11, 1),
    ]
    assert outcome.next_due_date == D(2026, 12, 1)


def test_mid_cycle_start_with_a_fixed_billing_day_is_prorated_by_days():
    # starts Nov 17, everyone is billed on the 1st: 14 of November's 30 days
    outcome = due_lines(
        state(start_date=D(2026, 11, 17), next_due_date=D(2026, 11, 17)),
        date=D(2026, 11, 17),
        lead_days=14,
    )
    assert [(ln.kind, ln.period_start, ln.period_end) for ln in outcome.lines] == [
        ("proration", D(2026, 11, 17), D(2026, 12, 1)),
        ("service", D(2026, 12, 1), D(2027, 1, 1)),
    ]
    assert amounts(outcome) == ["23.31", "49.95"]  # 49.95 x 14/30 = 23.31
    assert "(11/17/2026 – 11/30/2026)" in outcome.lines[0].description


def test_stub_of_an_annual_plan_is_a_share_of_the_year():
    end, factor = period_for(D(2026, 11, 17), "annual", 1)
    assert end == D(2026, 12, 1)
    assert factor == Decimal(14) / Decimal(365)


def test_setup_fee_comes_with_the_first_period_only():
    s = state(setup_fee=Money(Decimal("99.00"), "USD"))
    first = due_lines(s, date=D(2026, 12, 1), lead_days=0)
    assert [ln.kind for ln in first.lines] == ["service", "setup_fee"]
    later = due_lines(
        state(setup_fee=Money(Decimal("99.00"), "USD"), next_due_date=D(2027, 1, 1)),
        date=D(2027, 1, 1),
        lead_days=0,
    )
    assert [ln.kind for ln in later.lines] == ["service"]


def test_one_time_plan_is_billed_once():
    s = state(
        cycle="one_time",
        plan_name="Professional installation",
        description="",
        unit_price=Money(Decimal("99.00"), "USD"),
    )
    outcome = due_lines(s, date=D(2026, 12, 1), lead_days=0)
    assert [ln.description for ln in outcome.lines] == ["Professional installation"]
    assert outcome.next_due_date is None
    assert (
        due_lines(
            state(cycle="one_time", next_due_date=None), date=D(2027, 1, 1), lead_days=0
        ).lines
        == []
    )


def test_cancellation_at_period_end_bills_up_to_the_end_and_then_ends():
    s = state(next_due_date=D(2027, 1, 1), cancel_at=D(2027, 1, 1))
    outcome = due_lines(s, date=D(2026, 12, 20), lead_days=14)
    assert outcome.lines == []
    assert outcome.ends


def test_a_cancellation_inside_a_period_bills_only_to_that_date():
    s = state(next_due_date=D(2026, 12, 1), cancel_at=D(2026, 12, 16))
    outcome = due_lines(s, date=D(2026, 12, 1), lead_days=14)
    (line,) = outcome.lines
    assert (line.period_start, line.period_end) == (D(2026, 12, 1), D(2026, 12, 16))
    assert amounts(outcome) == ["24.17"]  # 49.95 x 15/31
    assert outcome.ends


def test_quantity_and_taxes_are_carried_to_the_line():
    tax = TaxKey("Sales tax", Decimal("8.25"))
    outcome = due_lines(
        state(
            quantity=3, taxes=(tax,), unit_price=Money(Decimal("15.00"), "USD"), cycle="quarterly"
        ),
        date=D(2026, 12, 1),
        lead_days=0,
    )
    (line,) = outcome.lines
    assert line.taxes == (tax,)
    assert line.period_end == D(2027, 3, 1)
    assert amounts(outcome) == ["45.00"]


def test_pending_service_activates_on_its_start_date():
    s = state(status="pending", next_due_date=D(2027, 1, 1), start_date=D(2026, 12, 1))
    assert due_lines(s, date=D(2026, 12, 1), lead_days=0).activates
    assert not due_lines(s, date=D(2026, 11, 30), lead_days=0).activates


def test_suspended_or_cancelled_services_are_not_billed():
    for status in ("suspended", "cancelled"):
        assert due_lines(state(status=status), date=D(2026, 12, 1), lead_days=14).lines == []


def test_runaway_catch_up_is_flagged():
    outcome = due_lines(
        state(next_due_date=D(2010, 1, 1), start_date=D(2010, 1, 1)),
        date=D(2026, 12, 1),
        lead_days=0,
    )
    assert outcome.anomaly


def test_upgrade_proration_amounts():
    usd = "USD"
    credit = unused_part(
        billed=Money(Decimal("49.95"), usd),
        period_start=D(2026, 12, 1),
        period_end=D(2027, 1, 1),
        today=D(2026, 12, 11),
    )
    charge = remainder_charge(
        unit_price=Money(Decimal("69.95"), usd),
        quantity=1,
        period_end=D(2027, 1, 1),
        cycle="monthly",
        anchor_day=1,
        today=D(2026, 12, 11),
    )
    assert credit.as_string() == "33.84"  # 49.95 x 21/31 = 33.837
    assert charge.as_string() == "47.39"  # 69.95 x 21/31 = 47.386
