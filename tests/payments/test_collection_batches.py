"""Auto debit a batch at a time (COLLECTION_BATCH): the same outcome as one
by one, one bad call holds back no other, and a slow gateway never leaves
calls pending long enough to be taken for abandoned."""

import datetime as dt
import re
from unittest.mock import ANY

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.models import AuditEvent
from isocnet.invoicing import balances
from isocnet.invoicing.models import Invoice
from isocnet.operations import auto_debit
from isocnet.payments import calls, settling
from isocnet.payments import services as payment_services
from isocnet.payments.models import GatewayCall, Payment, SandboxCharge
from tests.factories import make_customer, make_plan
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import run, subscribe
from tests.payments.test_collection import card_customer

pytestmark = pytest.mark.django_db
D = dt.date
DUE = D(2026, 12, 1)
# each a customer of its own; the check payer is never charged
TOKENS = [
    "tok_visa",
    "tok_chargeDeclined",
    "tok_mastercard",
    "tok_timeoutAfterCharge",
    "tok_chargeDeclinedExpiredCard",
    "tok_visa",
    "tok_timeoutBeforeCharge",
    "tok_chargeDeclinedInsufficientFunds",
]


EXPECTED_COUNTS = {
    "charged": 2 + 1,  # two visas and the mastercard
    "declined": 3,
    "unknown": 2,  # no answer: left for reconciliation
    "not_sent": 0,
    "no_card": 0,
    "installments": 0,  # payment plans' installments (none here)
}
# What each of TOKENS' customers sees after the run on DUE (outcome()).
EXPECTED = [
    ("paid", 0, [("succeeded", "", None, 4995, 1)], ["invoice", "receipt"]),
    (
        "unpaid",
        4995,
        [("declined", "generic_decline", D(2026, 12, 4), 4995, 1)],
        ["invoice", "payment_failed"],
    ),
    ("paid", 0, [("succeeded", "", None, 4995, 1)], ["invoice", "receipt"]),
    ("unpaid", 4995, [("unknown", "", None, 4995, 1)], ["invoice"]),
    (
        "unpaid",
        4995,
        [("declined", "expired_card", None, 4995, 1)],  # hard: no retry date
        ["invoice", "payment_failed"],
    ),
    ("paid", 0, [("succeeded", "", None, 4995, 1)], ["invoice", "receipt"]),
    ("unpaid", 4995, [("unknown", "", None, 4995, 1)], ["invoice"]),
    (
        "unpaid",
        4995,
        [("declined", "insufficient_funds", D(2026, 12, 4), 4995, 1)],
        ["invoice", "payment_failed"],
    ),
]


def outcome(customers) -> list:
    """What each customer sees: invoice status and balance, the call's
    status, retry date and decline, and the messages queued for them."""
    rows = []
    for customer in customers:
        invoice = customer.invoices.get()
        calls = [
            (c.status, c.decline_code, c.next_retry_on, c.amount_minor, c.attempt)
            for c in GatewayCall.objects.filter(customer=customer).order_by("id")
        ]
        kinds = sorted(customer.messages.values_list("kind", flat=True))
        rows.append((invoice.status, invoice.balance_minor, calls, kinds))
        check_invariants(customer)
    return rows


@pytest.mark.parametrize("batch", [1, 3, 50])
def test_a_batch_ends_each_invoice_as_charging_it_alone_would(settings, batch):
    settings.COLLECTION_BATCH = batch
    customers = [card_customer(token=token) for token in TOKENS]
    check_payer = make_customer(payment_method="check")
    subscribe(check_payer, make_plan(price="20.00"), DUE)
    summary = run(DUE)
    assert summary.collection == EXPECTED_COUNTS
    assert outcome(customers) == EXPECTED
    assert not GatewayCall.objects.filter(customer=check_payer).exists()
    assert SandboxCharge.objects.count() == 3 + 3 + 1  # charged, declined, charged then silent


@pytest.mark.django_db(transaction=True)  # the failed run closes its connection, as it does live
def test_a_call_that_cannot_be_settled_holds_back_none_of_the_others(monkeypatch):
    customers = [card_customer() for _ in range(5)]
    run(D(2026, 11, 20))  # issued, due 12/01
    victim = customers[2].invoices.get()
    real = balances.invoices_settle

    def settle(invoices):
        if victim.pk in {invoice.pk for invoice in invoices}:
            raise RuntimeError("disk full")
        return real(invoices)

    # one fault, in the batch and alone
    monkeypatch.setattr(balances, "invoices_settle", settle)
    monkeypatch.setattr(payment_services, "invoices_settle", settle)
    with pytest.raises(RuntimeError, match="disk full"):
        run(DUE)
    assert SandboxCharge.objects.count() == 5  # every card was charged once
    assert Payment.objects.count() == 4  # and recorded, but the one
    assert GatewayCall.objects.get(invoice=victim).status == "pending"
    for customer in customers:
        if customer != customers[2]:
            assert customer.invoices.get().status == "paid"

    # the fault gone, the morning's reconciliation settles it: one payment
    monkeypatch.setattr(balances, "invoices_settle", real)
    monkeypatch.setattr(payment_services, "invoices_settle", real)
    run(D(2026, 12, 2))  # a day later, the call is stale
    assert Invoice.objects.get(pk=victim.pk).status == "paid"
    assert (Payment.objects.count(), SandboxCharge.objects.count()) == (5, 5)
    for customer in customers:
        check_invariants(customer)


def test_calls_a_slow_gateway_leaves_unsent_fail_quietly_and_the_next_run_charges_them(
    monkeypatch,
):
    customers = [card_customer() for _ in range(3)]
    monkeypatch.setattr(auto_debit, "SEND_WITHIN", dt.timedelta(0))  # the gateway "took" too long
    summary = run(DUE)
    assert summary.collection["not_sent"] == 3
    assert not SandboxCharge.objects.exists()  # nothing reached the gateway
    assert set(GatewayCall.objects.values_list("status", "message")) == {
        ("failed", auto_debit.NOT_SENT)
    }
    assert all(kinds == ["invoice"] for *_, kinds in outcome(customers))  # no failure email

    monkeypatch.setattr(auto_debit, "SEND_WITHIN", calls.STALE_PENDING / 2)
    summary = run(DUE)
    assert summary.collection["charged"] == 3
    assert SandboxCharge.objects.count() == 3
    assert [c.attempt for c in GatewayCall.objects.filter(status="succeeded")] == [2, 2, 2]
    for customer in customers:
        check_invariants(customer)


def test_a_batch_takes_its_locks_and_commits_once_not_per_invoice(settings):
    """Statements per auto debit beyond the first ten, one by one and in a
    batch that starts its calls in one transaction and records what they
    took in another: measured 29 and 5 (each transaction here is a savepoint
    in the test's; the 5 are nearly all the sandbox gateway's own)."""
    for _ in range(100):
        card_customer()
    run(D(2026, 11, 20))
    due = auto_debit.due_for_collection(DUE)
    per_invoice = {}
    for batch, ids in ((1, due[:50]), (50, due[50:])):
        settings.COLLECTION_BATCH = batch
        with CaptureQueriesContext(connection) as ten:
            auto_debit.collect_invoices(actor=Actor("system"), invoice_ids=ids[:10])
        with CaptureQueriesContext(connection) as forty:
            auto_debit.collect_invoices(actor=Actor("system"), invoice_ids=ids[10:])
        per_invoice[batch] = (len(forty) - len(ten)) / 30
    assert Payment.objects.count() == 100
    assert per_invoice[50] <= 6 and per_invoice[1] >= 4 * per_invoice[50], per_invoice


def _what_was_written(customer) -> dict:
    """Every row an auto debit writes for a customer, with what differs
    between two customers (ids, numbers, random charge ids) taken out."""
    invoice = customer.invoices.get()

    def plain(after: dict) -> dict:
        after = dict(after)
        if after.get("invoice") == invoice.number:
            after["invoice"] = "#N"
        if "allocations" in after:
            after["allocations"] = {
                ("#N" if number == invoice.number else number): amount
                for number, amount in after["allocations"].items()
            }
        if "key" in after:
            after["key"] = re.sub(r"^invoice:\d+:", "invoice:I:", after["key"])
        if "charge_id" in after:
            after["charge_id"] = bool(after["charge_id"])
        return after

    return {
        "invoice": (
            invoice.status,
            invoice.balance_minor,
            invoice.amount_paid_minor,
            invoice.credit_applied_minor,
        ),
        "payments": [
            (
                p.method,
                p.reference,
                p.amount_minor,
                p.currency,
                p.received_on,
                p.recorded_by,
                p.status,
                p.card.last4,
                [(a.amount_minor, a.invoice_id == invoice.pk) for a in p.allocations.all()],
            )
            for p in Payment.objects.filter(customer=customer)
        ],
        "calls": [
            (
                c.status,
                c.attempt,
                c.amount_minor,
                {**c.response, "charge_id": bool(c.response.get("charge_id"))},
                c.payment_id is not None,
                c.decline_code,
                c.next_retry_on,
                c.message,
            )
            for c in GatewayCall.objects.filter(customer=customer)
        ],
        "messages": sorted(
            (m.kind, re.sub(r"\d+", "#", m.dedupe_key), sorted(m.context))
            for m in customer.messages.all()
        ),
        "audit": sorted(
            (e.action, e.object_type, e.actor, sorted(plain(e.after).items()))
            for e in AuditEvent.objects.filter(customer_id=customer.pk)
            if e.action.startswith(("card.charge", "payment"))
        ),
    }


def test_the_batch_writes_the_rows_one_by_one_would_field_for_field(settings):
    """The same customers twice: one group charged one by one, the other
    as one batch; every payment, allocation, call, receipt and audit row
    is the same but for its ids."""
    alone = [card_customer(token=token) for token in TOKENS]
    batched = [card_customer(token=token) for token in TOKENS]
    run(D(2026, 11, 20))
    due = auto_debit.due_for_collection(DUE)
    with clock.frozen_at(DUE):
        settings.COLLECTION_BATCH = 1
        auto_debit.collect_invoices(
            actor=Actor("system"), invoice_ids=[i for i in due if i <= alone[-1].invoices.get().pk]
        )
        settings.COLLECTION_BATCH = 50
        auto_debit.collect_invoices(
            actor=Actor("system"), invoice_ids=[i for i in due if i > alone[-1].invoices.get().pk]
        )
    assert Payment.objects.count() == 6
    for one, other in zip(alone, batched, strict=True):
        assert _what_was_written(other) == _what_was_written(one)
    assert _what_was_written(batched[0])["audit"] == [
        ("card.charge.succeeded", "GatewayCall", "system", ANY),
        ("payment.record", "Payment", "system", ANY),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_while_recording_a_batch_is_retried_at_once(monkeypatch):
    """The gateway has charged the batch; the database connection drops
    while the answers are recorded. They are recorded on a fresh connection
    straight away, not left pending until the next reconciliation."""
    from django.db import OperationalError

    from isocnet.core import db as core_db

    customers = [card_customer() for _ in range(4)]
    run(D(2026, 11, 20))
    real, cuts = settling._settle_locked_many, []

    def cut_once(**kw):
        if not cuts:
            cuts.append(1)
            raise OperationalError("terminating connection due to administrator command")
        return real(**kw)

    monkeypatch.setattr(settling, "_settle_locked_many", cut_once)
    monkeypatch.setattr(core_db.time, "sleep", lambda seconds: None)
    summary = run(DUE)
    assert cuts == [1]
    assert summary.collection["charged"] == 4
    assert (SandboxCharge.objects.count(), Payment.objects.count()) == (4, 4)
    assert not GatewayCall.objects.filter(status="pending").exists()
    for customer in customers:
        check_invariants(customer)


def test_a_batch_charge_brings_back_services_suspended_for_non_payment():
    """An expired card is declined and the services are suspended after the
    final warning; with a new card the next run charges the invoice in a
    batch, and the services come back in the same transaction."""
    from isocnet.payments.cards import card_attach
    from isocnet.subscriptions.models import Subscription
    from tests.factories import ACTOR

    customer = card_customer(token="tok_chargeDeclinedExpiredCard")
    other = card_customer()
    day = D(2026, 11, 20)
    while day <= D(2026, 12, 18):
        run(day)
        day += dt.timedelta(days=1)
    sub = Subscription.objects.get(customer=customer)
    assert (sub.status, sub.suspended_for_nonpayment) == ("suspended", True)
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    summary = run(D(2026, 12, 19))
    assert summary.collection["charged"] == 1
    sub.refresh_from_db()
    assert (sub.status, sub.suspended_for_nonpayment) == ("active", False)
    assert Subscription.objects.get(customer=other).status == "active"
    for each in (customer, other):
        check_invariants(each)
