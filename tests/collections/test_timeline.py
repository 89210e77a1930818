"""The timeline says what the daily runs will do: for 20 random accounts
at a time (card and check payers, account credit, promises, payment plans,
disputes, late fees on or off), the 60-day timeline computed on day one is compared,
day by day, with what the real daily runs then did."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from isocnet.collections.models import Promise
from isocnet.collections.plans import plan_create
from isocnet.collections.promises import dispute_open, promise_create
from isocnet.collections.suspension import owes_minor
from isocnet.core import clock
from isocnet.core.money import Money
from isocnet.invoicing.models import Invoice
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.operations.timeline import customer_timeline, events_of, mark, next_step
from tests.collections.helpers import D, days, policy
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import with_card

pytestmark = pytest.mark.django_db

START = D(2026, 11, 20)

account = st.fixed_dictionaries(
    {
        "card": st.booleans(),
        "price": st.sampled_from(["19.95", "49.95", "89.95", "125.00"]),
        "start": st.integers(min_value=-40, max_value=20),  # service start, days from START
        "credit": st.sampled_from([0, 0, 1000, 4995, 20000]),
        "promise": st.sampled_from([None, None, 3, 10]),  # promised in n days
        "dispute": st.booleans(),
        "plan": st.sampled_from([None, None, 2, 3]),  # installments, the first in 5 days
    }
)


def _open_account(spec: dict, n: int):
    customer = make_customer(
        payment_method="card" if spec["card"] else "check", name=f"Account {n}"
    )
    if spec["card"]:
        with_card(customer)
    start = START + dt.timedelta(days=spec["start"])
    subscribe(customer, make_plan(price=spec["price"]), start)
    # what happened before the timeline's first day, by the real runs
    day = min(start, START) - dt.timedelta(days=14)
    return customer, day


def _set_up_today(customer, spec: dict) -> None:
    with clock.frozen_at(START):
        if spec["credit"]:
            with transaction.atomic():
                credit_entry_add(
                    actor=ACTOR,
                    customer_id=customer.pk,
                    amount_minor=spec["credit"],
                    currency="USD",
                    kind=CreditKind.ADJUSTMENT,
                    memo="goodwill",
                )
        open_invoices = Invoice.objects.filter(
            customer=customer, status__in=["unpaid", "partially_paid"]
        )
        owed = owes_minor(customer.pk)
        if spec["promise"] and owed > 0:
            promise_create(
                actor=ACTOR,
                customer_id=customer.pk,
                amount=Money.from_minor(owed, "USD").as_string(),
                promised_on=START + dt.timedelta(days=spec["promise"]),
            )
        if spec["plan"] and not spec["promise"] and owed >= spec["plan"]:
            plan_create(
                actor=ACTOR,
                customer_id=customer.pk,
                installments=spec["plan"],
                first_on=START + dt.timedelta(days=5),
            )
        if spec["dispute"] and open_invoices.exists():
            dispute_open(actor=ACTOR, invoice_number=open_invoices.first().number, reason="Outage")


def _comparable(events):
    return [
        (e.date, e.kind, e.text, e.amount, e.invoice_due)
        for e in events
        if e.kind not in ("promise_due", "installment_due")
    ]


# Four accounts that every example has (overdue on START, so each hold
# applies), then 16 drawn at random.
ALWAYS = [
    {
        "card": True,
        "price": "89.95",
        "start": -25,
        "credit": 0,
        "promise": None,
        "dispute": False,
        "plan": 3,
    },
    {
        "card": False,
        "price": "49.95",
        "start": -25,
        "credit": 0,
        "promise": None,
        "dispute": False,
        "plan": 2,
    },
    {
        "card": False,
        "price": "125.00",
        "start": -25,
        "credit": 1000,
        "promise": 10,
        "dispute": False,
        "plan": None,
    },
    {
        "card": True,
        "price": "19.95",
        "start": -25,
        "credit": 0,
        "promise": None,
        "dispute": True,
        "plan": None,
    },
]


@settings(
    max_examples=1,  # 20 accounts, 60 real days: about a minute
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a failure is shown as found, unshrunk
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(account, min_size=16, max_size=16), late_fees=st.booleans())
def test_the_60_day_timeline_is_what_the_daily_runs_then_do(drawn, late_fees):
    specs = ALWAYS + drawn
    with transaction.atomic():
        policy(
            late_fee_flat="5.00" if late_fees else "0", late_fee_percent="1.5" if late_fees else "0"
        )
        accounts = [_open_account(spec, n) for n, spec in enumerate(specs)]
        day = min(first for _, first in accounts)
        while day < START:  # the months before: real runs
            run(day)
            day += dt.timedelta(days=1)
        for (customer, _), spec in zip(accounts, specs, strict=True):
            _set_up_today(customer, spec)
        with clock.frozen_at(START):
            said = {customer.pk: customer_timeline(customer.pk) for customer, _ in accounts}
        seen = {customer.pk: mark(customer.pk) for customer, _ in accounts}
        done = {customer.pk: [] for customer, _ in accounts}
        for offset in range(60):
            day = START + dt.timedelta(days=offset)
            run(day)
            with clock.frozen_at(day):
                for customer_id in done:
                    happened, seen[customer_id] = events_of(customer_id, seen[customer_id], day)
                    done[customer_id].extend(happened)
        for customer, _ in accounts:
            order = {"invoice": 1, "card_charge": 2, "notice": 3, "late_fee": 4}
            real = sorted(done[customer.pk], key=lambda e: (e.date, order.get(e.kind, 5)))
            assert _comparable(said[customer.pk]) == _comparable(real), customer.name
        assert any(said.values())  # the accounts do have a future
        held = [k for e in said[accounts[0][0].pk] for k in [e.kind]]
        assert "card_charge" in held  # the plan's installments, charged by auto debit
        transaction.set_rollback(True)


def test_the_next_step_in_words():
    policy(late_fee_flat="5.00")
    customer = make_customer(payment_method="check")
    subscribe(customer, make_plan(price="94.95"), D(2026, 12, 1))
    days(D(2026, 11, 17), D(2026, 12, 5))
    with clock.frozen_at(D(2026, 12, 6)):
        events = customer_timeline(customer.pk)
    assert next_step(events) == (
        "A late fee of $5.00 will be added on December 11, 2026 unless the balance is paid by then."
    )
    days(D(2026, 12, 6), D(2026, 12, 12))
    with clock.frozen_at(D(2026, 12, 13)):
        events = customer_timeline(customer.pk)
    # the fee waits for January's invoice: December's balance is what stops the suspension
    assert next_step(events) == (
        "Your service will be suspended on December 18, 2026 unless $94.95 is paid."
    )
    assert not Promise.objects.exists()


def test_the_staff_page_says_the_next_step_about_the_customer_not_to_them(client):
    """Issue #32: the staff's "next 60 days" read "Your service will be
    suspended …", words meant for the customer."""
    from django.contrib.auth import get_user_model

    from tests.collections.test_browser import _overdue_customer

    customer = _overdue_customer()
    client.force_login(get_user_model().objects.create_superuser("root", "r@i.example", "pw"))
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "The customer&#x27;s services will be suspended on" in page or (
        "The customer's services will be suspended on" in page
    )
    assert "Your service will be suspended" not in page
