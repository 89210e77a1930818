import datetime as dt

import pytest
from django.apps import apps
from django.db.models import F
from django.test import override_settings

from isocnet.core import clock
from isocnet.core.models import Sequence
from isocnet.invoicing.models import BillingRunItem, Charge, Invoice, InvoiceLine
from isocnet.invoicing.proration import subscription_change
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.factories import ACTOR, make_customer, make_plan, make_tax
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.mark.parametrize(
    ("method", "run_on", "due"),
    [
        ("card", D(2026, 11, 20), D(2026, 12, 1)),  # ahead: due on the period's start
        ("card", D(2026, 12, 1), D(2026, 12, 1)),  # on the day: charged that day
        ("card", D(2026, 12, 3), D(2026, 12, 3)),  # late: never born overdue
        ("check", D(2026, 11, 20), D(2026, 12, 1)),  # ahead, with more than the terms
        ("check", D(2026, 11, 26), D(2026, 12, 6)),  # ahead, but mail needs the terms
        ("check", D(2026, 12, 1), D(2026, 12, 11)),  # on the day: never due that day
    ],
)
def test_payment_terms_check_payers_get_ten_days_card_payers_pay_on_the_due_date(
    method, run_on, due
):
    customer = make_customer(payment_method=method)
    subscribe(customer, make_plan(), D(2026, 12, 1))
    run(run_on)
    invoice = Invoice.objects.get()
    assert (invoice.issue_date, invoice.due_date) == (run_on, due)


def test_one_invoice_per_customer_grouping_its_due_services():
    customer = make_customer()
    fiber = make_plan(name="Fiber 100 Mbps", price="49.95")
    ip = make_plan(name="Static IP address", price="10.00")
    hosting = make_plan(name="Web Hosting Basic", price="119.40", cycle="annual")
    subscribe(customer, fiber, D(2026, 12, 1), description="1 Main St")
    subscribe(customer, ip, D(2026, 12, 1), description="1 Main St")
    subscribe(customer, hosting, D(2026, 12, 10), description="example.com")
    summary = run(D(2026, 11, 26))
    assert summary.invoices == 1
    invoice = Invoice.objects.get()
    assert invoice.issue_date == D(2026, 11, 26)
    # the earliest line is due 12/01, but a check payer has PAYMENT_TERMS_DAYS (10)
    assert invoice.due_date == D(2026, 12, 6)
    assert [ln.description for ln in invoice.lines.all()] == [
        "Fiber 100 Mbps — 1 Main St (12/01/2026 – 12/31/2026)",
        "Static IP address — 1 Main St (12/01/2026 – 12/31/2026)",
        "Web Hosting Basic — example.com (12/10/2026 – 12/09/2027)",
    ]
    assert invoice.total.as_string() == "179.35"
    assert OutboxMessage.objects.get().dedupe_key == f"invoice:{invoice.pk}"
    due = dict(Subscription.objects.values_list("plan__name", "next_due_date"))
    assert due == {
        "Fiber 100 Mbps": D(2027, 1, 1),
        "Static IP address": D(2027, 1, 1),
        "Web Hosting Basic": D(2027, 12, 10),
    }


def test_the_same_date_twice_creates_nothing_more():
    customers = [make_customer() for _ in range(3)]
    plan = make_plan()
    for c in customers:
        subscribe(c, plan, D(2026, 12, 1))
    first = run(D(2026, 11, 20))
    second = run(D(2026, 11, 20))
    assert (first.invoices, second.invoices) == (3, 0)
    assert Invoice.objects.count() == 3
    assert OutboxMessage.objects.count() == 3
    assert InvoiceLine.objects.count() == 3


def test_dry_run_previews_and_writes_nothing():
    customer = make_customer(name="Alice Example")
    subscribe(
        customer,
        make_plan(name="Fiber 100 Mbps", price="49.95"),
        D(2026, 12, 1),
        description="1 Main St",
    )
    counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
    due_before = Subscription.objects.get().next_due_date
    summary = run(D(2026, 11, 20), dry_run=True)
    assert summary.invoices == 1
    assert summary.preview[0]["name"] == "Alice Example"
    assert summary.preview[0]["total"] == "49.95"
    assert summary.preview[0]["lines"][0]["description"].startswith(
        "Fiber 100 Mbps — 1 Main St (12/01/2026"
    )
    assert {m._meta.label: m.objects.count() for m in apps.get_models()} == counts
    assert Subscription.objects.get().next_due_date == due_before


def test_tax_per_rate_and_exempt_customers():
    tax = make_tax("8.25")
    hosting = make_plan(name="Hosting", price="119.40", cycle="annual", tax_rates=[tax])
    ip = make_plan(name="IP", price="10.00", tax_rates=[tax])
    fiber = make_plan(name="Fiber", price="49.95")
    taxed, exempt = make_customer(), make_customer(tax_exempt=True)
    for customer in (taxed, exempt):
        for plan in (hosting, ip, fiber):
            subscribe(customer, plan, D(2026, 12, 1))
    run(D(2026, 12, 1))
    invoice = Invoice.objects.get(customer=taxed)
    assert [(t.taxable.as_string(), t.tax.as_string()) for t in invoice.tax_lines.all()] == [
        ("129.40", "10.68")
    ]
    assert invoice.total.as_string() == "190.03"
    assert Invoice.objects.get(customer=exempt).total.as_string() == "179.35"


def test_account_credit_is_applied_to_the_new_invoice():
    customer = make_customer()
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    with clock.frozen_at(D(2026, 11, 1)):
        payment_record(actor=ACTOR, customer_id=customer.pk, amount="30.00", method="check")
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get()
    assert invoice.credit_applied.as_string() == "30.00"
    assert invoice.balance.as_string() == "19.95"
    assert invoice.status == "partially_paid"
    check_invariants(customer)


def test_pending_one_time_charges_join_the_invoice():
    customer = make_customer()
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    install = make_plan(name="Professional installation", price="99.00", cycle="one_time")
    subscribe(customer, install, D(2026, 11, 25))
    run(D(2026, 11, 25))
    invoice = Invoice.objects.get()
    assert [ln.description for ln in invoice.lines.all()][-1] == "Professional installation"
    assert invoice.total.as_string() == "148.95"
    assert Subscription.objects.get(plan=install).next_due_date is None


@override_settings(BILLING_DAY=1)
def test_mid_month_start_with_fixed_billing_day_is_prorated():
    customer = make_customer()
    subscribe(customer, make_plan(price="49.95"), D(2026, 11, 17))
    run(D(2026, 11, 17))
    invoice = Invoice.objects.get()
    assert [ln.amount.as_string() for ln in invoice.lines.all()] == ["23.31", "49.95"]


def test_upgrade_mid_period_credits_the_old_price_and_charges_the_new_one():
    customer = make_customer()
    small = make_plan(name="Fiber 100 Mbps", price="49.95")
    big = make_plan(name="Fiber 500 Mbps", price="69.95")
    sub = subscribe(customer, small, D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 11)):
        subscription_change(actor=ACTOR, subscription_id=sub.pk, changes={"plan": big.pk})
    charges = list(Charge.objects.order_by("id"))
    assert [(c.description, c.amount.as_string()) for c in charges] == [
        ("Unused Fiber 100 Mbps (12/11/2026 – 12/31/2026)", "-33.84"),
        ("Fiber 500 Mbps (12/11/2026 – 12/31/2026)", "47.39"),
    ]
    run(D(2026, 12, 20))  # the next invoice: January at the new price + the two adjustments
    invoice = Invoice.objects.latest("id")
    assert [ln.amount.as_string() for ln in invoice.lines.all()] == ["69.95", "-33.84", "47.39"]
    assert invoice.total.as_string() == "83.50"
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()


def test_downgrade_of_quantity_mid_period():
    customer = make_customer()
    email = make_plan(name="Business Email", price="15.00", cycle="quarterly")
    sub = subscribe(customer, email, D(2026, 12, 1), quantity=4)
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2027, 1, 15)):  # 45 of 90 days left
        subscription_change(actor=ACTOR, subscription_id=sub.pk, changes={"quantity": 2})
    assert [c.amount.as_string() for c in Charge.objects.order_by("id")] == ["-30.00", "15.00"]


@override_settings(PRORATE_CHANGES="immediate")
def test_immediate_proration_is_invoiced_at_once():
    customer = make_customer()
    sub = subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 11)):
        subscription_change(
            actor=ACTOR, subscription_id=sub.pk, changes={"plan": make_plan(price="69.95").pk}
        )
    invoice = Invoice.objects.latest("id")
    assert invoice.issue_date == D(2026, 12, 11)
    assert invoice.total.as_string() == "13.55"  # 47.39 - 33.84


def test_immediate_cancellation_credits_the_unused_part():
    customer = make_customer()
    sub = subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 11)):
        subscription_change(
            actor=ACTOR, subscription_id=sub.pk, changes={"status": "cancelled", "immediate": True}
        )
    from isocnet.payments.selectors import account_summary

    assert account_summary(customer).credit.as_string() == "33.84"
    assert run(D(2027, 1, 1)).invoices == 0


def test_cancel_at_period_end_stops_billing_after_the_paid_period():
    customer = make_customer()
    sub = subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 11)):
        subscription_change(actor=ACTOR, subscription_id=sub.pk, changes={"status": "cancelled"})
    assert run(D(2026, 12, 20)).invoices == 0
    run(D(2027, 1, 1))
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert Invoice.objects.count() == 1


def test_gate_refuses_zero_totals_and_reports_them():
    customer = make_customer()
    subscribe(customer, make_plan(name="Free tier", price="0.00"), D(2026, 12, 1))
    summary = run(D(2026, 12, 1))
    assert summary.invoices == 0
    assert summary.refused == 1
    assert "zero or negative" in summary.problems[0]
    assert BillingRunItem.objects.get().outcome == "refused"
    with override_settings(ALLOW_ZERO_INVOICES=True):
        assert run(D(2026, 12, 1)).invoices == 1


def test_gate_refuses_a_period_already_billed():
    customer = make_customer()
    sub = subscribe(customer, make_plan(), D(2026, 12, 1))
    run(D(2026, 12, 1))
    Subscription.objects.filter(pk=sub.pk).update(next_due_date=D(2026, 12, 1))  # a bad manual edit
    summary = run(D(2026, 12, 2))
    assert summary.refused == 1
    assert "already billed" in summary.problems[0]
    assert Invoice.objects.count() == 1


def test_gate_refuses_a_jump_in_the_number_sequence():
    customer = make_customer()
    plan = make_plan()
    subscribe(customer, plan, D(2026, 12, 1))
    run(D(2026, 12, 1))
    subscribe(make_customer(), plan, D(2026, 12, 1))
    Sequence.objects.filter(name="invoice-2026").update(
        last_value=F("last_value") + 5
    )  # corrupted counter
    summary = run(D(2026, 12, 1))
    assert summary.errors == 1
    assert "does not follow" in summary.problems[0]
    assert Invoice.objects.count() == 1


def test_an_error_for_one_customer_does_not_stop_the_others():
    good, bad = make_customer(), make_customer(currency="EUR")
    plan = make_plan()
    subscribe(good, plan, D(2026, 12, 1))
    sub = subscribe(bad, plan, D(2026, 12, 1), price="45.00")
    Subscription.objects.filter(pk=sub.pk).update(
        price_override_minor=None
    )  # USD plan for a EUR customer
    summary = run(D(2026, 12, 1))
    assert summary.invoices == 1
    assert summary.refused == 1
    assert "currency" in summary.problems[0]
