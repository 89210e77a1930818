"""The "Customer Invoice" email says what the invoice asked for when it was
issued, whatever happened to it before the email went out (issue #22).

An auto-debit customer billed on the due date is charged in the same run.
Whether the email is sent before the charge or after it, line 4 shows the
invoice's amount due at issue (never $0.00 because the card was charged a
minute earlier), line 5 is true when it is read, the PDF is the invoice as
issued, and the receipt is an email of its own."""

import datetime as dt

import pytest

from isocnet.core import clock
from isocnet.core.money import Money
from isocnet.documents.invoices import render_invoice_pdf
from isocnet.documents.models import StoredDocument
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.operations import billing_run as runs
from isocnet.payments.calls import charge_start
from isocnet.payments.cards import card_attach
from isocnet.payments.services import credit_adjust
from tests.factories import ACTOR, make_customer, make_plan
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import RUNNER, run, subscribe
from tests.notifications.helpers import non_blank_lines, pdf_attachments

pytestmark = pytest.mark.django_db
D = dt.date
DUE = D(2026, 12, 1)


def card_customer(name="Alice Example", token="tok_visa", price="125.73"):
    customer = make_customer(
        name=name, email=f"{name.split()[0].lower()}@example.com", payment_method="card"
    )
    card_attach(actor=ACTOR, customer_id=customer.pk, token=token)
    # a service that starts on the run's day: invoiced and due that same day
    subscribe(customer, make_plan(name="Fiber 1 Gbps", price=price), DUE)
    return customer


def deliver(day=DUE):
    with clock.frozen_at(day):
        return deliver_pending()


def by_subject(smtp, subject):
    return [m for m in smtp.messages if m["Subject"] == subject]


def invoice_email(smtp):
    (message,) = by_subject(smtp, "Customer Invoice")
    text = message.get_body(preferencelist=("plain",)).get_content()
    return message, non_blank_lines(text)


def assert_pdf_as_issued(message, invoice: Invoice, *, balance: str, credit: str | None = None):
    pdfs = pdf_attachments(message)
    text = pdfs[f"Invoice-{invoice.number}.pdf"]
    assert f"Balance {balance}" in text.replace("\n", " ")
    assert "PAID" not in text
    assert "Payments received" not in text
    if credit:
        assert f"Account credit applied -{credit}" in text.replace("\n", " ")
    # the attachment is the stored invoice, and the stored invoice is the
    # invoice as issued: rendering it again after the payment gives the same bytes
    (attached,) = [p for p in message.iter_attachments()]
    stored = StoredDocument.objects.get(invoice=invoice, kind="invoice")
    assert bytes(stored.content) == attached.get_content()
    invoice.refresh_from_db()
    assert invoice.status == "paid"  # paid since …
    assert render_invoice_pdf(invoice) == bytes(stored.content)  # … and the PDF does not say so


def test_email_sent_after_the_due_day_charge_says_the_amount_due_and_that_it_was_taken(smtp):
    customer = card_customer()
    summary = run(DUE)  # issues, charges the card, queues the receipt
    assert summary.collection["charged"] == 1
    deliver()
    invoice = Invoice.objects.get(customer=customer)
    message, lines = invoice_email(smtp)
    assert (
        lines[3] == f"Invoice #{invoice.number} · Amount due: $125.73 · Due date: December 1, 2026"
    )
    assert lines[4].startswith(
        "Your payment of $125.73 was taken automatically from your credit card "
        "(Visa ending in 4242) on December 1, 2026; the receipt follows in a separate email."
    )
    assert "Amount due: $0.00" not in message.get_body(preferencelist=("html",)).get_content()
    assert_pdf_as_issued(message, invoice, balance="$125.73")
    (receipt,) = by_subject(smtp, "Invoice Payment Confirmation")
    assert "Total paid: $125.73" in receipt.get_body(preferencelist=("plain",)).get_content()
    check_invariants(customer)


def test_email_sent_before_the_due_day_charge_says_it_will_be_taken(smtp):
    customer = card_customer()
    with clock.frozen_at(DUE):
        bill_run, reconciled = runs.run_start(date=DUE, actor=RUNNER, customers=1)
        summary = runs.RunSummary(date=DUE, dry_run=False, run=bill_run)
        summary.total = Money.zero("USD")
        runs.bill_chunk(
            run=bill_run, customer_ids=[customer.pk], date=DUE, actor=RUNNER, summary=summary
        )
    deliver()  # a worker sends the invoice email before the run reaches collection
    message, lines = invoice_email(smtp)
    invoice = Invoice.objects.get(customer=customer)
    assert (
        lines[3] == f"Invoice #{invoice.number} · Amount due: $125.73 · Due date: December 1, 2026"
    )
    assert lines[4].startswith(
        "Your payment of $125.73 will be taken automatically from your credit card on "
        "December 1, 2026."
    )
    assert not by_subject(smtp, "Invoice Payment Confirmation")
    with clock.frozen_at(DUE):
        runs.run_finish(
            run=bill_run, date=DUE, actor=RUNNER, summary=summary, reconciled=reconciled
        )
    deliver()
    (receipt,) = by_subject(smtp, "Invoice Payment Confirmation")  # its own email, after
    assert "Total paid: $125.73" in receipt.get_body(preferencelist=("plain",)).get_content()
    assert len(by_subject(smtp, "Customer Invoice")) == 1
    assert_pdf_as_issued(message, invoice, balance="$125.73")


def test_email_rendered_while_the_charge_is_at_the_gateway_says_it_is_being_taken(smtp):
    customer = card_customer()
    with clock.frozen_at(DUE):
        bill_run, _ = runs.run_start(date=DUE, actor=RUNNER, customers=1)
        summary = runs.RunSummary(date=DUE, dry_run=False, run=bill_run)
        summary.total = Money.zero("USD")
        runs.bill_chunk(
            run=bill_run, customer_ids=[customer.pk], date=DUE, actor=RUNNER, summary=summary
        )
        invoice = Invoice.objects.get(customer=customer)
        assert charge_start(
            actor=RUNNER, invoice_id=invoice.pk, amount=None, card=None
        )  # step 1 only
    deliver()
    _, lines = invoice_email(smtp)
    assert lines[4].startswith(
        "Your payment of $125.73 is being taken automatically from your credit card "
        "(Visa ending in 4242) today, December 1, 2026; the receipt follows in a separate email."
    )


def test_a_declined_due_day_charge_is_not_promised_again(smtp):
    card_customer(token="tok_chargeDeclinedInsufficientFunds")
    run(DUE)
    deliver()
    _, lines = invoice_email(smtp)
    assert "Amount due: $125.73" in lines[3]
    assert lines[4].startswith(
        "We tried to take your payment of $125.73 automatically from your credit card "
        "(Visa ending in 9995) on December 1, 2026, but it was declined; a separate email says "
        "what happens next."
    )
    assert len(by_subject(smtp, "Payment Failed: " + lines[3].split(" ·")[0])) == 1


def test_with_account_credit_the_amount_due_is_the_total_less_the_credit_applied(smtp):
    customer = card_customer()
    with clock.frozen_at(D(2026, 11, 25)):
        credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="20.00", memo="goodwill")
    run(DUE)
    deliver()
    invoice = Invoice.objects.get(customer=customer)
    assert (invoice.total_minor, invoice.issued_balance_minor) == (12573, 10573)
    message, lines = invoice_email(smtp)
    assert (
        lines[3] == f"Invoice #{invoice.number} · Amount due: $105.73 · Due date: December 1, 2026"
    )
    assert lines[4].startswith(
        "Your payment of $105.73 was taken automatically from your credit card "
        "(Visa ending in 4242) on December 1, 2026"
    )
    assert "Account credit applied: -$20.00" in lines
    assert "Balance: $105.73" in lines
    assert_pdf_as_issued(message, invoice, balance="$105.73", credit="$20.00")
    (receipt,) = by_subject(smtp, "Invoice Payment Confirmation")
    assert "Total paid: $125.73" in receipt.get_body(preferencelist=("plain",)).get_content()
    check_invariants(customer)


def test_paid_in_full_from_credit_at_issue_says_so(smtp):
    customer = card_customer()
    check = make_customer(name="Bob Check", email="bob@example.com")
    subscribe(check, make_plan(price="30.00"), DUE)
    with clock.frozen_at(D(2026, 11, 19)):
        for who in (customer, check):
            credit_adjust(actor=ACTOR, customer_id=who.pk, amount="200.00", memo="prepaid")
    run(D(2026, 11, 20))
    deliver(D(2026, 11, 20))
    for message in by_subject(smtp, "Customer Invoice"):
        lines = non_blank_lines(message.get_body(preferencelist=("plain",)).get_content())
        assert "Amount due: $0.00" in lines[3]
        assert "paid in full from your account credit" in lines[4]
        assert "will be taken automatically" not in "\n".join(lines)
        (pdf,) = pdf_attachments(message).values()
        assert "PAID" in pdf and "Remittance slip" not in pdf
