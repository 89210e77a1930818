"""The run's set-based fast path (batch_billing) against the one-by-one path:
the same invoices, numbers, lines, taxes, emails, audit rows and service
dates, whichever path bills a customer; a fixed number of statements per
batch; and a batch that fails is billed one by one."""

import datetime as dt
import logging

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from isocnet.core import clock
from isocnet.core.models import AuditEvent
from isocnet.invoicing.charges import charge_create
from isocnet.invoicing.models import BillingRunItem, Invoice
from isocnet.invoicing.proration import subscription_change
from isocnet.operations import batch_billing
from isocnet.operations.batch_billing import bill_batch
from isocnet.operations.billing_run import due_customer_ids, run_start
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.factories import ACTOR, make_customer, make_plan, make_tax
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import RUNNER, run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date
DATES = [D(2026, 12, 1), D(2027, 1, 1), D(2027, 2, 1)]
FIRST = DATES[0]


def build():
    """Every kind of customer a run meets: plain ones (the fast path) and
    those left to the one-by-one path."""
    state, county = make_tax("6.25", "State tax"), make_tax("1.75", "County tax")
    fiber = make_plan(name="Fiber 300", price="79.95", tax_rates=[state, county])
    ip = make_plan(name="Static IP", price="10.00", tax_rates=[state])
    hosting = make_plan(name="Hosting", price="119.40", cycle="annual", tax_rates=[state])
    free = make_plan(name="Free tier", price="0.00")
    quarterly = make_plan(name="Backup", price="30.00", cycle="quarterly")
    people = {}

    def person(key, plans, start=FIRST, **kw):
        c = make_customer(name=f"Customer {key}", email=f"{key}@example.com", **kw)
        for plan in plans:
            subscribe(c, plan, start)
        people[key] = c
        return c

    person("plain", [fiber, ip])
    person("exempt", [fiber, hosting], tax_exempt=True)
    person("card", [fiber], payment_method="card")
    person("quarterly", [quarterly, ip])
    charged = person("charged", [fiber])
    with clock.frozen_at(D(2026, 11, 20)):
        charge_create(actor=ACTOR, customer_id=charged.pk, description="Router", unit_price="59.00")
    credited = person("credited", [fiber])
    with clock.frozen_at(D(2026, 11, 20)):
        payment_record(actor=ACTOR, customer_id=credited.pk, amount="30.00", method="check")
    person("free", [free])
    person("later", [ip], start=D(2027, 1, 15))
    leaving = person("leaving", [fiber, ip])
    with clock.frozen_at(D(2026, 12, 10)):
        sub = Subscription.objects.filter(customer=leaving, plan=ip).get()
        subscription_change(actor=ACTOR, subscription_id=sub.pk, changes={"status": "cancelled"})
    for i in range(6):
        person(f"many{i}", [fiber, ip, hosting][: 1 + i % 3])
    return people


def snapshot():
    """What a run wrote. Invoices are named by customer and issue date: the
    fast path numbers its batch before the customers it leaves to the
    one-by-one path, so who gets which number may differ (never the numbers
    used, checked apart)."""
    label = {
        i.number: f"{i.customer.name} {i.issue_date}"
        for i in Invoice.objects.select_related("customer")
    }
    by_pk = {i.pk: label[i.number] for i in Invoice.objects.all()}

    def named(value):
        text = str(value)
        for number, name in label.items():
            text = text.replace(f"'{number}'", f"'{name}'")
        return text

    invoices = [
        (
            label[i.number],
            i.issue_date,
            i.due_date,
            i.status,
            i.subtotal_minor,
            i.tax_minor,
            i.total_minor,
            i.credit_applied_minor,
            i.balance_minor,
            i.bill_to,
            [
                (ln.position, ln.kind, ln.description, ln.amount_minor, ln.taxes)
                for ln in i.lines.order_by("position")
            ],
            [
                (t.name, t.percent, t.taxable_minor, t.tax_minor)
                for t in i.tax_lines.order_by("name")
            ],
        )
        for i in Invoice.objects.select_related("customer")
    ]
    outbox = sorted(
        (m.customer.name, m.kind, by_pk.get(m.invoice_id))
        for m in OutboxMessage.objects.select_related("customer")
    )
    audit = sorted(
        (e.action, named(e.before), named(e.after))
        for e in AuditEvent.objects.filter(action__in=["invoice.issue", "subscription.billed"])
    )
    services = sorted(
        (s.customer.name, s.plan.name, s.status, s.next_due_date)
        for s in Subscription.objects.select_related("customer", "plan")
    )
    items = sorted(
        (i.customer.name, i.outcome, i.message)
        for i in BillingRunItem.objects.select_related("customer")
    )
    return {
        "numbers": sorted(label),
        "invoices": sorted(invoices),
        "outbox": outbox,
        "audit": audit,
        "services": services,
        "items": items,
    }


def bill_all(batch_size):
    """Build, bill DATES, snapshot, and roll everything back."""
    with transaction.atomic():
        with override_settings(BILLING_BATCH_SIZE=batch_size):
            people = build()
            for day in DATES:
                run(day)
        for customer in people.values():
            check_invariants(customer)
        shot = snapshot()
        transaction.set_rollback(True)
    return shot


def test_batches_write_exactly_what_one_by_one_billing_writes():
    one_by_one, batched = bill_all(1), bill_all(200)
    assert len(one_by_one["invoices"]) >= 25
    customers_invoiced = {row[0].rsplit(" ", 1)[0] for row in batched["invoices"]}
    assert {"Customer charged", "Customer credited", "Customer plain"} <= customers_invoiced
    assert ("Customer free", "refused") in {row[:2] for row in batched["items"]}
    for part in one_by_one:
        assert batched[part] == one_by_one[part], part


def test_a_batch_of_fifty_issues_as_many_statements_as_a_batch_of_ten():
    plan = make_plan(tax_rates=[make_tax("8.25")])
    second = make_plan(name="Static IP", price="10.00")
    for i in range(61):
        c = make_customer()
        subscribe(c, plan, D(2026, 12, 1))
        if i % 2:
            subscribe(c, second, D(2026, 12, 1))
    ids = due_customer_ids(D(2026, 12, 1))
    counts = []
    with clock.frozen_at(D(2026, 12, 1)):
        the_run, _ = run_start(date=D(2026, 12, 1), actor=RUNNER, customers=len(ids))
        # the first batch also starts the year's number series: not counted
        for chunk in (ids[:1], ids[1:11], ids[11:61]):
            with CaptureQueriesContext(connection) as queries:
                result = bill_batch(
                    customer_ids=chunk, date=D(2026, 12, 1), run=the_run, actor=RUNNER
                )
            assert len(result.issued) == len(chunk)
            counts.append(len(queries))
    # 40 more customers add no per-customer statement (SQLite splits a long
    # multi-row INSERT or UPDATE at 999 parameters: a few more there).
    assert counts[2] - counts[1] <= (0 if connection.vendor == "postgresql" else 6)
    assert counts[2] <= 30
    assert Invoice.objects.filter(status="unpaid").count() == 61


def test_a_batch_that_fails_is_billed_one_by_one(monkeypatch, caplog):
    plan = make_plan()
    customers = [make_customer() for _ in range(5)]
    for c in customers:
        subscribe(c, plan, D(2026, 12, 1))

    def broken(*args, **kwargs):  # as if another writer had billed a period first
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(batch_billing, "invoices_issue_locked", broken)
    with caplog.at_level(logging.WARNING):
        summary = run(D(2026, 12, 1))
    assert "billing them one by one" in caplog.text
    assert (summary.invoices, summary.errors) == (5, 0)
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5]
    assert OutboxMessage.objects.count() == 5
    for c in customers:
        check_invariants(c)


@pytest.mark.django_db(transaction=True)  # a real run's connection: autocommit between steps
def test_a_connection_lost_in_a_batch_or_in_dunning_is_tried_again(monkeypatch, caplog):
    """A terminated backend (failover, pg_terminate_backend) mid-batch or
    mid-dunning: the run reconnects and does that part again, whole."""
    from isocnet.operations import billing_run as billing_run_module

    plan = make_plan()
    customers = [make_customer() for _ in range(3)]
    for c in customers:
        subscribe(c, plan, D(2026, 12, 1))
    real_batch, real_dunning = billing_run_module.bill_batch, billing_run_module.overdue_step
    cut = {"batch": 1, "dunning": 1}

    def once(name, real):
        def work(**kwargs):
            if cut[name]:
                cut[name] -= 1
                raise OperationalError("terminating connection due to administrator command")
            return real(**kwargs)

        return work

    monkeypatch.setattr(billing_run_module, "bill_batch", once("batch", real_batch))
    monkeypatch.setattr(billing_run_module, "overdue_step", once("dunning", real_dunning))
    with caplog.at_level(logging.WARNING):
        summary = run(D(2026, 12, 1))
    assert caplog.text.count("database error (terminating connection") == 2
    assert "one by one" not in caplog.text  # the batch itself was billed again
    assert (summary.invoices, summary.errors) == (3, 0)
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3]
    assert summary.run.status == "completed"


@pytest.mark.parametrize("size", [301, 1000])
def test_a_batch_over_300_issues_every_invoice_in_one_batch(size, caplog):
    """Issue #31: a batch over 300 reused the SQL text's name for the rows,
    so its second chunk sliced a string, the batch failed and the run fell
    back to billing one customer at a time, silently."""
    plan = make_plan()
    for _ in range(size):
        subscribe(make_customer(), plan, D(2026, 12, 1))
    ids = due_customer_ids(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 1)):
        the_run, _ = run_start(date=D(2026, 12, 1), actor=RUNNER, customers=len(ids))
        result = bill_batch(customer_ids=ids, date=D(2026, 12, 1), run=the_run, actor=RUNNER)
    assert len(result.issued) == size
    numbers = sorted(Invoice.objects.filter(status="unpaid").values_list("number", flat=True))
    assert len(numbers) == size and len(set(numbers)) == size
    assert numbers[-1].endswith(f"{size:06d}")  # gapless: 1 … size
