"""The sender renders a batch of messages together (render_many_into): what
each message says, and the PDF it attaches, are exactly what it would say
rendered alone, and the number of queries does not grow with the batch."""

from datetime import date as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from isocnet.documents.receipts import receipt_facts, receipts_facts
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.notifications.rendering import RENDERED_FIELDS, render_into, render_many_into
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import Payment
from isocnet.payments.returns import payment_return
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice, make_plan, make_tax
from tests.invoicing.billing_helpers import run, subscribe
from tests.payments.test_collection import card_customer

pytestmark = pytest.mark.django_db

COMPARED = [f for f in RENDERED_FIELDS if f not in {"message_id", "rendered_at"}]


def queued(**filters):
    return list(
        OutboxMessage.objects.filter(status="pending", **filters)
        .select_related("invoice__customer", "document")
        .order_by("id")
    )


def rendered_alone() -> dict:
    out = {}
    for message in queued():
        render_into(message)
        out[message.pk] = {f: getattr(message, f) for f in COMPARED}
    return out


def billed(name, price, *, tax=None, **customer):
    """A customer with a service due 12/01, invoiced by the run of 11/20."""
    who = make_customer(name=name, **customer)
    subscribe(who, make_plan(price=price, tax_rates=[tax] if tax else None), D(2026, 12, 1))
    return who


def a_mixed_queue():
    """Invoice emails of check and card payers (one card customer without a
    card), taxed and untaxed services, cc addresses; receipts of a partial
    check, of a second check on the same invoice, of a card charge, and a
    returned check's notice."""
    tax = make_tax("8.25")
    check = billed("Check Payer", "29.99", tax=tax, cc_emails=["books@example.com"])
    billed("No Card Yet", "69.95", payment_method="card")
    card_customer(price="49.95")
    run(D(2026, 11, 20))
    deliver_pending()  # these invoice emails go; the card invoice is charged on 12/01
    run(D(2026, 12, 1))  # auto debit: a receipt
    check_invoice = Invoice.objects.get(customer=check)
    paid = [
        payment_record(
            actor=ACTOR,
            amount=amount,
            method="check",
            reference=reference,
            invoice_number=check_invoice.number,
        ).payment
        for amount, reference in [("20.00", "1001"), ("5.00", "1002"), ("3.00", "1003")]
    ]
    payment_return(actor=ACTOR, payment_id=paid[2].pk)
    for i in range(3):
        billed(f"More {i}", f"{i + 1}9.95", tax=tax)
    run(D(2026, 11, 20))  # their invoice emails, left queued


def test_a_batch_says_and_attaches_what_each_message_would_alone():
    a_mixed_queue()
    messages = queued()
    kinds = {m.kind for m in messages}
    assert {"invoice", "receipt", "payment_returned"} <= kinds
    assert len([m for m in messages if m.kind == "receipt"]) >= 3
    alone = rendered_alone()  # not saved: the rows are still unrendered
    batch = queued()
    render_many_into(batch)
    for message in batch:
        assert {f: getattr(message, f) for f in COMPARED} == alone[message.pk], message.kind
        assert message.message_id and message.rendered_at
        if message.kind in {"invoice", "receipt"}:
            assert message.document is not None
    receipts = {m.body_text for m in batch if m.kind == "receipt"}
    assert any("Remaining balance" in text for text in receipts)  # the partial checks


def test_sending_a_batch_costs_one_statement_per_message_and_a_fixed_number_besides(smtp):
    """Each message costs only the UPDATE that marks it sent (right after its
    250): its data, PDF and rendering are read and stored per batch."""

    def queries_to_send(n_customers):
        OutboxMessage.objects.filter(status="pending").update(status="sent")
        tax = make_tax("8.25")
        customers = [
            billed(f"Batch {n_customers}-{i}", "29.99", tax=tax) for i in range(n_customers)
        ]
        run(D(2026, 11, 20))
        for customer in customers:
            payment_record(
                actor=ACTOR,
                amount="5.00",
                method="check",
                invoice_number=Invoice.objects.get(customer=customer).number,
            )
        assert len(queued()) == 2 * n_customers  # an invoice email and a receipt each
        with CaptureQueriesContext(connection) as ctx:
            report = deliver_pending()
        assert report.sent == 2 * n_customers
        return len(ctx.captured_queries)

    small, large = queries_to_send(3), queries_to_send(12)
    assert large - small == 2 * (12 - 3), (small, large)  # one per message more
    assert small - 2 * 3 <= 40, small  # the fixed part (it was about 10 a message)
    assert len(smtp.messages) == 30


def test_receipts_facts_for_many_pairs_are_each_pairs_own(today):
    tax = make_tax("8.25")
    first = make_invoice(make_customer(), [("Hosting", "100.00", tax)])
    second = make_invoice(make_customer(), [("Fiber", "50.00", None)])
    pays = [
        payment_record(actor=ACTOR, amount=a, method="check", invoice_number=inv.number).payment
        for inv, a in [(first, "10.00"), (second, "50.00"), (first, "20.00"), (first, "1.00")]
    ]
    payment_return(actor=ACTOR, payment_id=pays[3].pk)  # voided: on no receipt
    pays = [Payment.objects.get(pk=p.pk) for p in pays]
    pairs = [(first, pays[0]), (second, pays[1]), (first, pays[2]), (first, pays[3])]
    many = receipts_facts(pairs)
    for invoice, payment in pairs:
        assert many[(invoice.pk, payment.pk)] == receipt_facts(invoice, payment)
    assert many[(first.pk, pays[0].pk)]["paid"].as_string() == "10.00"  # not the later 20.00
    assert many[(first.pk, pays[2].pk)]["paid"].as_string() == "30.00"
    assert many[(first.pk, pays[3].pk)]["paid"].as_string() == "30.00"  # the void left out
    assert many[(second.pk, pays[1].pk)]["balance"].as_string() == "0.00"
