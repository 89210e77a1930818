"""Exactly-once under concurrency and replays (PostgreSQL where it races)."""

import datetime as dt
import random
import threading
from collections import Counter

import pytest
from django.db import connections

from isocnet.core import clock
from isocnet.invoicing.models import Invoice, InvoiceLine
from isocnet.invoicing.services import invoice_issue
from isocnet.ledger.models import CreditEntry
from isocnet.ledger.sums import available_credit_minor
from isocnet.operations.billing_run import billing_run
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.charges import charge_invoice
from isocnet.payments.gateways import get_gateway
from isocnet.payments.models import Payment, SandboxCharge, WebhookEvent
from isocnet.payments.services import credit_adjust
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import RUNNER, run
from tests.payments.test_collection import card_customer

DAY = dt.date(2026, 12, 1)


def together(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def go():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_invoices_issued_at_once_use_at_most_the_50_dollars_of_credit(settings):
    settings.AUTO_APPLY_CREDIT = True
    customer = make_customer()
    credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="50.00", memo="Goodwill")
    drafts = [
        make_invoice(customer, lines=(("Fiber", "40.00", None),), issue=False) for _ in range(2)
    ]
    pending = list(drafts)

    def issue():
        return invoice_issue(actor=ACTOR, invoice_id=pending.pop().pk)

    together(2, issue)
    used = -sum(
        CreditEntry.objects.filter(customer=customer, kind="applied").values_list(
            "amount_minor", flat=True
        )
    )
    assert used == 5000 and available_credit_minor(customer.pk) == 0
    assert sorted(Invoice.objects.values_list("balance_minor", flat=True)) == [0, 3000]
    check_invariants(customer)


@pytest.mark.django_db
def test_webhooks_for_many_charges_replayed_10_times_in_shuffled_order(client):
    customers = [card_customer("tok_timeoutAfterCharge") for _ in range(5)]
    run(dt.date(2026, 11, 20))
    with clock.frozen_at(DAY):
        for invoice in Invoice.objects.all():
            charge_invoice(actor=ACTOR, invoice_id=invoice.pk)  # charged, answer lost
    gateway = get_gateway()
    deliveries = [gateway.event_for(c) for c in SandboxCharge.objects.all()] * 10
    random.Random(7).shuffle(deliveries)
    for payload, signature in deliveries:
        response = client.post(
            "/webhooks/sandbox",
            data=payload,
            content_type="application/json",
            headers={"Sandbox-Signature": signature},
        )
        assert response.status_code == 200
    assert WebhookEvent.objects.count() == 5
    assert Payment.objects.count() == 5 == SandboxCharge.objects.count()
    for customer in customers:
        check_invariants(customer)


@pytest.mark.reliability
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_runs_started_together_bill_10000_services_once():
    """RELIABILITY_FULL=1: 10,000 services (the recorded run); CI: 4,000."""
    import os

    from tests.reliability.bulk import build_customers

    customers = 5000 if os.environ.get("RELIABILITY_FULL") else 2000
    build_customers(customers, services_each=2, due=DAY)
    with clock.frozen_at(DAY):
        results = together(4, lambda: billing_run(date=DAY, actor=RUNNER))
    assert sum(r.invoices for r in results) == customers
    assert sum(r.errors for r in results) == 0
    assert InvoiceLine.objects.count() == 2 * customers
    periods = Counter(InvoiceLine.objects.values_list("subscription_id", "period_start"))
    assert max(periods.values()) == 1
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, customers + 1))
    assert OutboxMessage.objects.filter(kind="invoice").count() == customers


@pytest.mark.reliability
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_collections_at_once_charge_each_card_once(settings):
    """RELIABILITY_FULL=1: 1,000 auto debits (CI: 400) collected by four
    runs at once, two of them going through the invoices backwards, in
    batches of 50: every batch locks its customers in id order, so the four
    never deadlock, and each invoice is charged once."""
    import os

    from isocnet.operations.auto_debit import collect_invoices, due_for_collection
    from isocnet.payments.models import GatewayCall
    from tests.reliability.bulk import build_customers

    settings.COLLECTION_BATCH = 50
    n = 1000 if os.environ.get("RELIABILITY_FULL") else 400
    build_customers(n, services_each=1, due=DAY, card_behaviour=lambda i: "ok")
    run(DAY - dt.timedelta(days=10))  # issued, due on DAY: nothing charged yet
    assert not GatewayCall.objects.exists()
    with clock.frozen_at(DAY):
        due = due_for_collection(DAY)
        orders = iter([due, due[::-1], due, due[::-1]])
        results = together(4, lambda: collect_invoices(actor=RUNNER, invoice_ids=next(orders)))
    assert len(due) == n
    assert sum(r["charged"] for r in results) == n
    assert SandboxCharge.objects.count() == n  # the gateway's ledger: one charge each
    assert Payment.objects.count() == n
    assert GatewayCall.objects.count() == n
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}
    assert OutboxMessage.objects.filter(kind="receipt").count() == n


@pytest.mark.reliability
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_1000_auto_debits_with_10_percent_timing_out_after_the_charge():
    """RELIABILITY_FULL=1: 1,000 auto debits (CI: 200). The gateway charges
    every card but never answers for one in ten; reconciliation settles each
    once: our payments equal the gateway's charges, nothing is left in doubt."""
    import os

    from isocnet.payments.charges import reconcile
    from isocnet.payments.models import GatewayCall
    from tests.reliability.bulk import build_customers

    n = 1000 if os.environ.get("RELIABILITY_FULL") else 200
    build_customers(
        n,
        services_each=1,
        due=DAY,
        card_behaviour=lambda i: "timeout_after_charge" if i % 10 == 0 else "ok",
    )
    with clock.frozen_at(DAY):  # due on the day they are issued: the run collects
        summary = billing_run(date=DAY, actor=RUNNER)
        assert summary.invoices == n
        assert GatewayCall.objects.filter(status="unknown").count() == n // 10
        assert summary.collection["charged"] == n - n // 10
        settled = reconcile(actor=RUNNER)
        again = reconcile(actor=RUNNER)
    assert settled == n // 10 and again == 0
    assert not GatewayCall.objects.filter(status__in=["pending", "unknown"]).exists()
    assert SandboxCharge.objects.count() == n  # one charge per invoice at the gateway
    assert Payment.objects.count() == n  # and one payment each here
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}


@pytest.mark.reliability
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gateway_faults_before_and_after_charging_end_with_each_invoice_charged_once():
    """A quarter of the cards each: fine, charged then no answer, no answer
    without a charge, HTTP 500 without a charge. Reconciliation tells the
    in-doubt ones apart by asking the gateway; the gateway recovers and the
    next day's run charges what was never charged — once."""
    import os

    from isocnet.payments.charges import reconcile
    from isocnet.payments.models import GatewayCall
    from isocnet.payments.sandbox_models import SandboxCard
    from tests.reliability.bulk import build_customers

    n = 1000 if os.environ.get("RELIABILITY_FULL") else 200
    modes = ["ok", "timeout_after_charge", "timeout_before_charge", "server_error"]
    build_customers(n, services_each=1, due=DAY, card_behaviour=lambda i: modes[i % 4])
    with clock.frozen_at(DAY):
        summary = billing_run(date=DAY, actor=RUNNER)
        assert summary.collection["charged"] == n // 4
        assert GatewayCall.objects.filter(status="unknown").count() == 3 * n // 4
        assert reconcile(actor=RUNNER) == 3 * n // 4
    calls = GatewayCall.objects.filter(kind="charge")
    assert calls.filter(status="succeeded").count() == n // 2  # charged, answer lost: found
    assert calls.filter(status="failed").count() == n // 2  # never reached the gateway
    assert SandboxCharge.objects.count() == n // 2
    SandboxCard.objects.update(behaviour="ok")  # the gateway recovers
    next_day = DAY + dt.timedelta(days=1)
    with clock.frozen_at(next_day):
        again = billing_run(date=next_day, actor=RUNNER)
    assert again.collection["charged"] == n // 2
    assert not GatewayCall.objects.filter(status__in=["pending", "unknown"]).exists()
    assert SandboxCharge.objects.count() == Payment.objects.count() == n
    charged_keys = SandboxCharge.objects.values_list("idempotency_key", flat=True)
    per_invoice = Counter(
        GatewayCall.objects.filter(idempotency_key__in=charged_keys).values_list(
            "invoice_id", flat=True
        )
    )
    assert len(per_invoice) == n and set(per_invoice.values()) == {1}
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}


def _waiting_on_a_lock() -> int:
    """Backends of this database blocked on a row lock right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_check_recorded_while_auto_debit_runs_means_that_card_is_not_charged():
    """Staff record a customer's full check while the morning's auto debit
    is running. The run reached that invoice while the check was being
    written: it waits for the customer's lock, re-reads the balance, finds
    the invoice paid and charges nothing; the other card customer is charged
    as usual."""
    import time

    from django.db import transaction

    from isocnet.operations.auto_debit import collect_due
    from isocnet.payments.services import payment_record

    first, second = card_customer(), card_customer()
    run(dt.date(2026, 11, 20))  # issued, due 12/01
    mailed = Invoice.objects.get(customer=second)
    writing, commit = threading.Event(), threading.Event()
    outcome = {}

    def staff_records_the_check():
        try:
            with clock.frozen_at(DAY), transaction.atomic():
                payment_record(
                    actor=ACTOR, amount="49.95", method="check", invoice_number=mailed.number
                )
                writing.set()  # the customer row stays locked until the commit
                commit.wait(120)
        finally:
            connections.close_all()

    def morning_auto_debit():
        try:
            with clock.frozen_at(DAY):
                outcome.update(collect_due(actor=RUNNER, date=DAY))
        finally:
            connections.close_all()

    staff = threading.Thread(target=staff_records_the_check)
    staff.start()
    assert writing.wait(120)
    debit = threading.Thread(target=morning_auto_debit)
    debit.start()
    deadline = time.monotonic() + 120
    while _waiting_on_a_lock() == 0:  # the run is blocked on that customer
        assert time.monotonic() < deadline, "auto debit never reached the locked customer"
        time.sleep(0.05)
    commit.set()
    staff.join(120)
    debit.join(120)
    assert outcome["charged"] == 1
    charged = list(SandboxCharge.objects.values_list("amount_minor", flat=True))
    assert charged == [4995]  # the first customer's card only
    assert Invoice.objects.get(customer=first).status == "paid"
    mailed.refresh_from_db()
    assert (mailed.status, mailed.balance_minor) == ("paid", 0)
    assert not Payment.objects.filter(customer=second, method="card").exists()
    for customer in (first, second):
        check_invariants(customer)
