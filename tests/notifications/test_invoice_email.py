"""The "Customer Invoice" email, as the customer receives it over SMTP."""

import datetime as dt
import html
import re

import pytest

from isocnet.core import clock
from isocnet.notifications.delivery import deliver_pending
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import PaymentMethod
from tests.factories import make_customer, make_plan, make_tax
from tests.invoicing.billing_helpers import run, subscribe
from tests.notifications.helpers import non_blank_lines, pdf_attachments, plain_and_html

pytestmark = pytest.mark.django_db
D = dt.date


def _card(customer):
    return PaymentMethod.objects.create(
        customer=customer,
        gateway="sandbox",
        token="pm_test_visa",
        brand="Visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        is_default=True,
        created_at=clock.now(),
    )


@pytest.fixture
def billed(smtp):
    tax = make_tax("8.25")
    fiber = make_plan(name="Fiber 100 Mbps", price="49.95")
    hosting = make_plan(name="Web Hosting Basic", price="119.40", cycle="annual", tax_rates=[tax])
    alice = make_customer(name="Alice Example", email="alice@example.com", payment_method="card")
    _card(alice)
    bob = make_customer(name="Łukasz Müller", email="lukasz@example.com", payment_method="check")
    for customer in (alice, bob):
        subscribe(customer, fiber, D(2026, 12, 1), description="1 Main St")
        subscribe(customer, hosting, D(2026, 12, 1), description="example.com")
    run(D(2026, 11, 20))
    with clock.frozen_at(D(2026, 11, 20)):
        report = deliver_pending()
    assert report.sent == 2
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    return by_to["alice@example.com"], by_to["lukasz@example.com"]


def test_auto_debit_customer_email_lines(billed):
    message, _ = billed
    assert message["Subject"] == "Customer Invoice"
    assert message["Message-ID"]
    text, html_body = plain_and_html(message)
    lines = non_blank_lines(text)
    assert lines[0] == "Dear Alice Example,"
    assert "an invoice has been generated" in lines[1]
    assert "November 20, 2026" in lines[1]
    assert lines[2] == "Payment method: Credit card (auto debit), Visa ending in 4242"
    assert re.fullmatch(
        r"Invoice #2026-0000\d\d · Amount due: \$179\.20 · Due date: December 1, 2026", lines[3]
    )
    assert lines[4].startswith(
        "Your payment of $179.20 will be taken automatically from your credit card on "
        "December 1, 2026."
    )
    assert "https://portal.isocnet.example/invoices/2026-" in lines[4]
    assert "pay your bill, review your invoices and update your contact information" in lines[4]
    assert "Thank you for trusting ISOCNET as your online solutions partner." in lines
    assert not any("payable to" in line for line in lines)
    # the HTML alternative says the same, in the same order
    flat = html.unescape(re.sub(r"<[^>]+>", "", html_body))
    positions = [
        flat.index(p)
        for p in (
            "Dear Alice Example,",
            "an invoice has been generated",
            "Visa ending in 4242",
            "Amount due: $179.20",
            "taken automatically",
            "update your contact information",
        )
    ]
    assert positions == sorted(positions)


def test_check_customer_email_lines(billed):
    _, message = billed
    text, html_body = plain_and_html(message)
    lines = non_blank_lines(text)
    assert lines[0] == "Dear Łukasz Müller,"
    assert "an invoice has been generated" in lines[1]
    assert lines[2] == "Payment method: Check or mail-in payment"
    assert "Amount due: $179.20" in lines[3]
    assert lines[4].startswith(
        "You can log in to our client portal at https://portal.isocnet.example/invoices/"
    )
    assert "automatically" not in text
    assert any(
        "payable to ISOCNET" in line and "Please write invoice number 2026-" in line
        for line in lines
    )
    assert "Łukasz Müller" in html_body


def test_the_pdf_attachment_says_number_descriptions_total_balance(billed):
    for message in billed:
        number = re.search(
            r"Invoice #(\S+)", message.get_body(preferencelist=("plain",)).get_content()
        )[1]
        pdfs = pdf_attachments(message)
        assert list(pdfs) == [f"Invoice-{number}.pdf"]
        text = pdfs[f"Invoice-{number}.pdf"]
        assert number in text
        assert "Fiber 100 Mbps — 1 Main St" in text
        assert "Web Hosting Basic — example.com" in text
        assert "Total" in text and "$179.20" in text
        assert "Balance" in text
        assert "INVOICE" in text


def test_check_payer_pdf_has_a_remittance_slip_and_names_print(billed):
    _, message = billed
    text = next(iter(pdf_attachments(message).values()))
    assert "Łukasz Müller" in text
    assert "Remittance slip" in text
    assert "Amount enclosed" in text


def test_the_stored_pdf_is_what_was_sent_and_what_downloads(billed, api):
    alice_message, _ = billed
    sent = next(p for p in alice_message.iter_attachments()).get_content()
    outbox = OutboxMessage.objects.get(to_email__contains="alice@example.com")
    import hashlib

    assert hashlib.sha256(sent).hexdigest() == outbox.document.sha256
    response = api.client.get(f"/api/v1/invoices/{outbox.invoice.number}/pdf", headers=api.headers)
    assert response.status_code == 200
    assert response.content == sent
    assert response["X-Content-SHA256"] == outbox.document.sha256


def test_an_auto_debit_customer_without_a_card_is_never_promised_a_charge(smtp):
    """Issue #30, item 4: auto debit on, no card on file. The email and the
    PDF say how to pay and how to add a card; neither says the payment will
    be taken automatically."""
    carol = make_customer(name="Carol Nocard", email="carol@example.com", payment_method="card")
    subscribe(carol, make_plan(name="Fiber 100 Mbps", price="49.95"), D(2026, 12, 1))
    run(D(2026, 11, 20))
    with clock.frozen_at(D(2026, 11, 20)):
        assert deliver_pending().sent == 1
    (message,) = smtp.messages
    text, _html = plain_and_html(message)
    lines = non_blank_lines(text)
    assert lines[2] == "Payment method: Credit card (auto debit)"
    assert lines[4].startswith(
        "Automatic payment is on, but there is no card on file to charge, so nothing will be "
        "taken automatically: please pay $49.95 by December 1, 2026 online or by check"
    )
    assert "payment of $49.95 will be taken" not in text
    (pdf,) = pdf_attachments(message).values()
    flat = " ".join(pdf.split())
    assert "charged automatically" not in flat
    assert "no card on file to charge" in flat and "Add a card at" in flat
