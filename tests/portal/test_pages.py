"""Dashboard, invoice list and detail, PDFs as issued, receipts."""

import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from isocnet.documents.invoices import invoice_pdf
from isocnet.payments.services import credit_adjust, payment_record
from tests.factories import ACTOR, make_invoice, make_tax


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_dashboard_shows_balance_credit_next_due_and_pay_now(signed_in, member, today):
    customer, _ = member
    first = make_invoice(customer, lines=(("Fiber 300", "80.00", None),))
    make_invoice(customer, lines=(("Static IP", "15.00", None),))
    credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="5.00", memo="Goodwill")
    page = signed_in.get("/portal/dashboard/").content.decode()
    assert "Hello, Dana Member" in page
    assert "$90.00" in page  # 80 + 15 - 5 credit
    assert "Includes $5.00 account credit" in page
    assert f"?invoice={first.number}" in page and "Pay now" in page
    assert "Check or mail-in payment" in page


def test_invoice_list_filters_searches_and_pages(signed_in, member, today):
    customer, _ = member
    invoices = [make_invoice(customer, lines=((f"Service {i}", "10.00", None),)) for i in range(27)]
    payment_record(actor=ACTOR, invoice_number=invoices[0].number, amount="10.00", method="cash")
    page = signed_in.get("/portal/invoices/").content.decode()
    assert "Page 1 of 2" in page
    paid = signed_in.get("/portal/invoices/?status=paid").content.decode()
    assert invoices[0].number in paid and invoices[1].number not in paid
    unpaid = signed_in.get("/portal/invoices/?status=unpaid").content.decode()
    assert invoices[0].number not in unpaid
    found = signed_in.get("/portal/invoices/?q=Service+13").content.decode()
    assert invoices[13].number in found and invoices[12].number not in found


def test_pages_cost_the_same_number_of_queries_for_2_or_30_invoices(signed_in, member, today):
    customer, _ = member

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            assert signed_in.get(path).status_code == 200
        return len(ctx)

    signed_in.get("/portal/dashboard/")  # the session's activity is recorded (once a minute)
    for _ in range(2):
        make_invoice(customer, lines=(("Fiber", "10.00", None),))
    few = {p: queries(p) for p in ("/portal/dashboard/", "/portal/invoices/")}
    for _ in range(28):
        make_invoice(customer, lines=(("Fiber", "10.00", None),))
    many = {p: queries(p) for p in ("/portal/dashboard/", "/portal/invoices/")}
    assert few == many
    # session, then the user with login and account in one query, then the page's own
    # (the dashboard's include whether a promise to pay stands)
    assert many == {"/portal/dashboard/": 8, "/portal/invoices/": 4}


def test_invoice_page_matches_the_pdf_and_the_pdf_is_the_one_issued(signed_in, member, today):
    customer, _ = member
    tax = make_tax("8.25")
    invoice = make_invoice(
        customer, lines=(("Fiber 300", "80.00", tax), ("Install", "25.00", None))
    )
    page = signed_in.get(f"/portal/invoices/{invoice.number}/").content.decode()
    pdf = signed_in.get(f"/portal/invoices/{invoice.number}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert bytes(pdf.content) == bytes(invoice_pdf(invoice).content)  # as issued, stored
    text = pdf_text(pdf.content)
    for fact in (invoice.number, "Fiber 300", "Install", "$80.00", "$25.00", "$6.60", "$111.60"):
        assert fact in page, fact
        assert fact in text, fact


def test_receipts_for_each_payment_on_an_invoice(signed_in, member, today):
    customer, _ = member
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    first = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="30.00", method="check", reference="501"
    ).payment
    second = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="50.00", method="check", reference="502"
    ).payment
    page = signed_in.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert f"/portal/payments/{first.pk}/receipts/{invoice.number}/pdf/" in page
    assert f"/portal/payments/{second.pk}/receipts/{invoice.number}/pdf/" in page
    last = pdf_text(
        signed_in.get(f"/portal/payments/{second.pk}/receipts/{invoice.number}/pdf/").content
    )
    assert "RECEIPT" in last and "PAID IN FULL" in last and "$0.00" in last
    partial = pdf_text(
        signed_in.get(f"/portal/payments/{first.pk}/receipts/{invoice.number}/pdf/").content
    )
    assert "Remaining balance: $50.00" in partial
    detail = signed_in.get(f"/portal/payments/{second.pk}/").content.decode()
    assert "Payment received: $50.00" in detail and "paid in full" in detail


def test_a_paid_invoice_says_how_it_was_paid_not_that_it_will_be_charged(signed_in, member, today):
    from isocnet.payments.card_payments import auto_debit_set
    from isocnet.payments.cards import card_attach
    from isocnet.payments.charges import charge_invoice

    customer, _ = member
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    auto_debit_set(actor=ACTOR, customer_id=customer.pk, enabled=True)
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    before = signed_in.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "will be charged automatically to your Visa ending in 4242" in before
    charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    page = signed_in.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "How it was paid" in page and "Paid in full. Thank you!" in page
    assert "$80.00 by credit card (Visa ending in 4242, taken automatically)" in page
    assert "will be charged automatically" not in page
    assert "Balance due" in page and "$0.00" in page
