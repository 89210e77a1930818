import datetime as dt

import pytest

from isocnet.collections.suspension import suspension_date
from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.notifications.rendering import render_into
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date


def kinds(customer):
    return list(
        OutboxMessage.objects.filter(customer=customer)
        .order_by("id")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def unpaid():
    """A check customer with a December invoice due 12/01, never paid."""
    customer = make_customer(payment_method="check")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 17))
    return customer


def test_reminder_then_three_overdue_notices_each_once_however_often_the_run_repeats(unpaid):
    day = D(2026, 11, 17)
    while day <= D(2026, 12, 20):
        run(day)
        run(day)  # a second run the same day changes nothing
        day += dt.timedelta(days=1)
    # on 12/18 the run bills January (lead time) and then suspends for December
    assert kinds(unpaid) == [
        "invoice",
        "reminder",
        "overdue_1",
        "overdue_2",
        "overdue_3",
        "invoice",
        "suspension",
    ]
    sent_on = {
        m.kind: m.created_at.astimezone(clock._zone()).date()
        for m in OutboxMessage.objects.filter(customer=unpaid, invoice__due_date=D(2026, 12, 1))
    }
    assert sent_on == {
        "invoice": D(2026, 11, 17),
        "reminder": D(2026, 11, 28),
        "overdue_1": D(2026, 12, 2),
        "overdue_2": D(2026, 12, 8),
        "overdue_3": D(2026, 12, 15),
        "suspension": D(2026, 12, 18),
    }
    third = OutboxMessage.objects.get(kind="overdue_3")
    assert third.context["suspension_date"] == "2026-12-18"
    assert Invoice.objects.get(due_date=D(2026, 12, 1)).overdue_since == D(2026, 12, 2)


def test_missed_days_send_only_the_latest_notice(unpaid):
    run(D(2026, 12, 9))  # first run after the due date: +8 days
    assert kinds(unpaid) == ["invoice", "overdue_2"]
    run(D(2026, 12, 10))
    assert kinds(unpaid) == ["invoice", "overdue_2"]


def test_card_customers_get_no_reminder():
    customer = make_customer(payment_method="card")
    subscribe(customer, make_plan(), D(2026, 12, 1))
    for day in (D(2026, 11, 17), D(2026, 11, 28)):
        run(day)
    assert kinds(customer) == ["invoice"]


def test_suspension_after_the_final_warning_and_reactivation_on_payment(unpaid):
    sub = Subscription.objects.get(customer=unpaid)
    assert suspension_date(D(2026, 12, 1)) == D(2026, 12, 18)
    for day in (D(2026, 12, 2), D(2026, 12, 8), D(2026, 12, 15), D(2026, 12, 17)):
        run(day)  # the notices at +1, +7 and +14 (the final one on 12/15)
    sub.refresh_from_db()
    assert sub.status == "active"
    summary = run(D(2026, 12, 18))
    sub.refresh_from_db()
    assert summary.dunning.suspended_customers == 1
    assert (sub.status, sub.suspended_for_nonpayment) == ("suspended", True)
    assert "suspension" in kinds(unpaid)
    run(D(2026, 12, 19))
    assert kinds(unpaid).count("suspension") == 1
    invoice = Invoice.objects.get(due_date=D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 20)):
        payment_record(actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number)
    sub.refresh_from_db()
    assert (sub.status, sub.suspended_for_nonpayment) == ("active", False)


def test_after_missed_runs_the_final_notice_comes_first_and_suspension_waits_for_it(unpaid):
    """Issue #16, item 7: runs stopped after the due date and resumed on
    12/20, three days after the calendar's suspension day. That run sends the
    final notice (naming 12/23), and suspends nothing; 12/23 suspends."""
    sub = Subscription.objects.get(customer=unpaid)
    run(D(2026, 12, 20))
    sub.refresh_from_db()
    assert sub.status == "active" and kinds(unpaid).count("overdue_3") == 1
    assert "suspension" not in kinds(unpaid)
    final = OutboxMessage.objects.get(customer=unpaid, kind="overdue_3")
    assert final.context["suspension_date"] == "2026-12-23"
    render_into(final)
    assert final.subject == "Final Notice: Services will be suspended on December 23, 2026"
    assert "suspended on December 23, 2026" in final.body_text
    for day in (D(2026, 12, 21), D(2026, 12, 22)):
        assert run(day).dunning.suspended_customers == 0
    assert run(D(2026, 12, 23)).dunning.suspended_customers == 1
    sub.refresh_from_db()
    assert (sub.status, sub.suspended_for_nonpayment) == ("suspended", True)


def test_suspended_services_keep_being_billed_so_nothing_is_missed_on_return(unpaid):
    for day in (D(2026, 12, 15), D(2026, 12, 18), D(2026, 12, 31)):
        run(day)
    assert Subscription.objects.get(customer=unpaid).status == "suspended"
    periods = sorted(
        Invoice.objects.filter(customer=unpaid).values_list("lines__period_start", flat=True)
    )
    assert periods == [D(2026, 12, 1), D(2027, 1, 1)]


def test_collection_counts_auto_debit_invoices_due():
    customer = make_customer(payment_method="card")
    subscribe(customer, make_plan(), D(2026, 12, 1))
    assert run(D(2026, 11, 20)).dunning.to_collect == 0
    assert run(D(2026, 12, 1)).dunning.to_collect == 1
