"""The "Invoice Payment Confirmation" receipt, as received over SMTP."""

import datetime as dt

import pytest

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.payments.cards import card_attach
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.notifications.helpers import non_blank_lines, pdf_attachments, plain_and_html

pytestmark = pytest.mark.django_db
D = dt.date


def receipts(smtp):
    return [m for m in smtp.messages if m["Subject"] == "Invoice Payment Confirmation"]


def test_partial_check_payment_then_the_rest(smtp):
    customer = make_customer(name="Bob Builder", payment_method="check")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get()
    with clock.frozen_at(D(2026, 11, 25)):
        payment_record(
            actor=ACTOR,
            amount="20.00",
            method="check",
            reference="Check 1042",
            invoice_number=invoice.number,
        )
        deliver_pending()
    (first,) = receipts(smtp)
    text, html = plain_and_html(first)
    lines = non_blank_lines(text)
    assert lines[0] == "Dear Bob Builder,"
    assert (
        "receipt" in lines[1]
        and f"#{invoice.number}" in lines[1]
        and "November 20, 2026" in lines[1]
    )
    assert lines[2] == "Total paid: $20.00"
    assert lines[3] == "Remaining balance: $29.95"
    assert "receipt" in lines[4] and "payment has been applied to your" in lines[4]
    assert any("Check (Check 1042)" in line for line in lines)
    assert "Remaining balance: <strong>$29.95</strong>" in html
    assert "#R-2026-000001" in lines[1]  # the receipt's own number
    ((pdf_name, pdf_text),) = pdf_attachments(first).items()
    assert pdf_name == "Receipt-R-2026-000001.pdf"
    flat = " ".join(pdf_text.split())
    assert "RECEIPT" in pdf_text and "Payments received" in pdf_text
    assert "Receipt number R-2026-000001" in flat
    assert "Receipt date November 25, 2026" in flat
    assert f"Invoice #{invoice.number}" in flat
    assert "Due date" not in flat  # a receipt is not due
    assert "Received November 25, 2026 · Check · Check 1042" in flat
    assert "Applied to this invoice: $20.00" in flat
    assert "-$" not in flat and "−$" not in flat  # amounts paid carry no minus sign
    assert "Total paid $20.00" in flat
    assert flat.count("$29.95") == 2  # the balance once, and once in "About this receipt"
    assert flat.count("Remaining balance: $29.95") == 1

    with clock.frozen_at(D(2026, 11, 28)):
        payment_record(
            actor=ACTOR,
            amount="29.95",
            method="money_order",
            reference="MO 77",
            invoice_number=invoice.number,
        )
        deliver_pending()
    second = receipts(smtp)[1]
    lines = non_blank_lines(plain_and_html(second)[0])
    assert lines[2] == "Total paid: $49.95"
    assert not lines[3].startswith("Remaining balance")  # paid in full: no such line
    ((pdf_name, pdf_text),) = pdf_attachments(second).items()
    assert pdf_name == "Receipt-R-2026-000002.pdf"  # each receipt its own number and file
    assert "#R-2026-000002" in lines[1]
    assert "Check 1042" in pdf_text and "MO 77" in pdf_text  # both payments received
    assert "$0.00" in pdf_text and "PAID IN FULL" in pdf_text
    assert " ".join(pdf_text.split()).count("Balance: $0.00") == 1


def test_auto_debit_receipt_names_the_card(smtp):
    customer = make_customer(payment_method="card")
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 1)):
        deliver_pending()
    (receipt,) = receipts(smtp)
    lines = non_blank_lines(plain_and_html(receipt)[0])
    assert lines[2] == "Total paid: $49.95"
    assert any("Credit card (Visa ending in 4242)" in line for line in lines)
    assert "PAID IN FULL" in next(iter(pdf_attachments(receipt).values()))


def test_overpayment_becomes_credit_and_pays_the_next_invoice(smtp):
    customer = make_customer(payment_method="check")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 20))
    first = Invoice.objects.get()
    with clock.frozen_at(D(2026, 11, 25)):
        payment_record(actor=ACTOR, amount="100.00", method="check", invoice_number=first.number)
    run(D(2026, 12, 18))  # January's invoice: paid from the credit
    january = Invoice.objects.latest("id")
    assert january.status == "paid"
    assert january.credit_applied.as_string() == "49.95"


def test_payment_failed_email(smtp):
    customer = make_customer(payment_method="card", name="Carmen Castillo")
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_chargeDeclined")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 12, 1))
    with clock.frozen_at(D(2026, 12, 1)):
        deliver_pending()
    failed = [m for m in smtp.messages if "Payment Failed" in m["Subject"]]
    assert len(failed) == 1
    text = plain_and_html(failed[0])[0]
    assert "Visa ending in 0002" in text
    assert "December 4, 2026" in text  # the retry date
    assert "portal" in text


def test_an_overpayment_receipt_tells_the_whole_payment(smtp):
    """Issue #30, item 2: a $100.00 check on a $49.95 invoice. The email
    and the PDF say what was received, what this invoice got and what was
    kept as account credit — the $50.05 does not disappear."""
    customer = make_customer(name="Olga Over", payment_method="check")
    subscribe(customer, make_plan(price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get()
    with clock.frozen_at(D(2026, 11, 25)):
        payment_record(
            actor=ACTOR,
            amount="100.00",
            method="check",
            reference="Check 77",
            invoice_number=invoice.number,
        )
        deliver_pending()
    (receipt,) = receipts(smtp)
    text, _html = plain_and_html(receipt)
    lines = non_blank_lines(text)
    assert f"Amount applied to invoice #{invoice.number}: $49.95" in lines
    assert "Amount received: $100.00" in lines
    assert "Kept as account credit: $50.05 (it pays your next invoices)" in lines
    (pdf,) = pdf_attachments(receipt).values()
    flat = " ".join(pdf.split())
    assert "Amount received: $100.00" in flat
    assert "Kept as account credit: $50.05" in flat
    assert "PAID IN FULL" in flat


def test_a_receipt_names_the_other_invoices_a_payment_paid(smtp):
    customer = make_customer(name="Pia Two", payment_method="check")
    subscribe(customer, make_plan(price="20.00"), D(2026, 12, 1))
    subscribe(customer, make_plan(price="30.00", cycle="annual"), D(2026, 12, 20))
    run(D(2026, 11, 20))
    run(D(2026, 12, 10))
    first, second = Invoice.objects.order_by("id")
    with clock.frozen_at(D(2026, 12, 11)):
        payment_record(actor=ACTOR, amount="60.00", method="check", invoice_number=first.number)
        deliver_pending()
    on_first = next(m for m in receipts(smtp) if first.number in m.get_body().get_content())
    text, _html = plain_and_html(on_first)
    assert f"Applied to invoice #{second.number}: $30.00" in text
    assert "Kept as account credit: $10.00" in text


def test_a_payment_that_only_becomes_credit_gets_a_numbered_receipt(smtp):
    """Issue #30, item 3: $60.78 recorded on an account with no open
    invoice used to answer "a receipt is on its way" and queue nothing."""
    from isocnet.payments.models import Receipt

    customer = make_customer(name="Cora Credit", payment_method="check")
    with clock.frozen_at(D(2026, 11, 25)):
        result = payment_record(
            actor=ACTOR,
            customer_id=customer.pk,
            amount="60.78",
            method="check",
            reference="Check 5",
        )
        deliver_pending()
    assert result.credit.as_string() == "60.78" and not result.allocations
    receipt = Receipt.objects.get(payment=result.payment)
    assert receipt.invoice is None and receipt.amount.as_string() == "60.78"
    (message,) = receipts(smtp)
    text, _html = plain_and_html(message)
    lines = non_blank_lines(text)
    assert f"This is your payment receipt #{receipt.number}" in lines[1]
    assert "Total paid: $60.78" in lines
    assert any("confirm that your payment has been applied" in line for line in lines)
    assert (
        "Kept as account credit: $60.78 (no invoice was open; it pays your next invoices)" in lines
    )
    ((name, pdf),) = pdf_attachments(message).items()
    assert name == f"Receipt-{receipt.number}.pdf"
    flat = " ".join(pdf.split())
    assert "RECEIPT" in flat and receipt.number in flat
    assert "Kept as account credit: $60.78" in flat and "does not need to be paid" in flat


def test_a_lockbox_check_for_a_paid_invoice_gets_its_receipt(smtp, today):
    from isocnet.deposits.bank_files import bank_file_import
    from tests.deposits.bankfiles import Item, lockbox_csv
    from tests.factories import make_invoice

    customer = make_customer(name="Lena Lockbox", payment_method="check")
    invoice = make_invoice(customer)
    payment_record(actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number)
    bank_file_import(
        actor=ACTOR,
        format="lockbox",
        filename="day.csv",
        content=lockbox_csv(
            [
                Item(
                    "LB-9",
                    4995,
                    invoice_number=invoice.number,
                    account_number=customer.account_number,
                )
            ],
            today,
        ),
    )
    deliver_pending()
    bodies = [plain_and_html(m)[0] for m in receipts(smtp)]
    assert len(bodies) == 2
    assert any("Kept as account credit: $49.95" in body for body in bodies)


def test_a_receipt_counts_credit_taken_back_by_a_returned_payment(smtp):
    """Issue #30, item 1: credit from a check pays an invoice; the check is
    returned, so the credit is taken back and the invoice owes again. The
    next payment's receipt says what still remains, as the ledger does."""
    from isocnet.payments.returns import payment_return
    from tests.factories import make_invoice

    customer = make_customer(name="Rita Return", payment_method="check")
    with clock.frozen_at(D(2026, 11, 20)):
        check = payment_record(
            actor=ACTOR, customer_id=customer.pk, amount="49.95", method="check"
        ).payment
        invoice = make_invoice(customer)  # paid from the credit at issue
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    with clock.frozen_at(D(2026, 11, 23)):
        payment_return(actor=ACTOR, payment_id=check.pk)
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "49.95"
    with clock.frozen_at(D(2026, 11, 24)):
        payment_record(actor=ACTOR, amount="20.00", method="check", invoice_number=invoice.number)
        deliver_pending()
    last = receipts(smtp)[-1]
    text, _html = plain_and_html(last)
    assert "Remaining balance: $29.95" in text
    (pdf,) = pdf_attachments(last).values()
    assert "Remaining balance: $29.95" in " ".join(pdf.split())


def test_a_notice_preview_speaks_as_of_the_day_it_goes_out(today):
    """Issue #32: previews were dated today ("is now 0 days past due")."""
    from isocnet.collections.policy import current
    from isocnet.notifications.previews import notice_preview
    from tests.factories import make_invoice

    invoice = make_invoice(make_customer(), due_date=D(2026, 12, 1))
    days = current().notice_days[1]
    text = notice_preview("overdue_2", invoice).text
    assert f"is now {days} days past due" in text, text
