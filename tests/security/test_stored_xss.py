"""Customer-controlled text (name, company, address, service label, charge
description, payment reference) is shown as text everywhere it is rendered:
portal, back office, email and PDF. Nothing in it runs as HTML or as Typst
markup."""

import io

from django.contrib.auth import get_user_model
from pypdf import PdfReader

from isocnet.documents.invoices import invoice_pdf
from isocnet.notifications.rendering import render_into
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import portal_login_for

SCRIPT = '<script>alert("x")</script>'
PAYLOAD = SCRIPT + '<img src=x onerror=alert(1)> #panic("boom") ]*_'


def test_hostile_text_is_inert_in_every_channel(client, db, today):
    customer = make_customer(
        name="Eve " + PAYLOAD,
        company=PAYLOAD,
        address={"line1": PAYLOAD, "city": "Springfield", "postal_code": "62701", "country": "US"},
    )
    subscribe(customer, make_plan(name="Fiber"), today, description=PAYLOAD)
    run(today)
    extra = make_invoice(customer, lines=((PAYLOAD, "10.00", None),))
    payment_record(
        actor=ACTOR,
        invoice_number=extra.number,
        amount="1.00",
        method="check",
        reference=PAYLOAD[:100],
    )
    invoice = customer.invoices.order_by("id").first()

    def inert(html: str, where: str) -> None:
        assert SCRIPT not in html, where
        assert "<img src=x" not in html, where
        assert "&lt;script&gt;" in html, where  # shown, escaped

    # the portal
    client.force_login(portal_login_for(customer))
    for path in (
        "/portal/dashboard/",
        f"/portal/invoices/{extra.number}/",
        "/portal/contact/",
        "/portal/invoices/",
        "/portal/statement/",
    ):
        inert(client.get(path).content.decode(), path)
    # the back office
    staff = get_user_model().objects.create_superuser("boss", "b@isocnet.example", "x-1-y")
    client.force_login(staff)
    for path in (
        f"/admin/customers/customer/{customer.pk}/change/",
        f"/admin/invoicing/invoice/{extra.pk}/change/",
        "/admin/reports/",
    ):
        inert(client.get(path).content.decode(), path)
    # the email (HTML part; the text part is plain text)
    message = OutboxMessage.objects.get(kind=MessageKind.INVOICE, invoice=invoice)
    render_into(message)
    inert(message.body_html, "invoice email")
    assert "Subject" not in message.subject and "\n" not in message.subject
    # the PDF: the text is printed as it is, the Typst markup is not run
    for inv in (invoice, extra):
        text = "\n".join(
            p.extract_text() for p in PdfReader(io.BytesIO(bytes(invoice_pdf(inv).content))).pages
        )
        assert '#panic("boom")' in text.replace("\n", " ") or "#panic" in text
