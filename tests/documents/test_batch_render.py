"""The documents step ahead of the emails: invoices and receipts rendered in
batches on parallel threads are the very PDFs the emails attach and the
portal serves, stored once each."""

import datetime as dt
import hashlib
import io

import pytest
from pypdf import PdfReader

from isocnet.documents.invoices import invoice_pdfs_render, render_invoice_pdf
from isocnet.documents.models import StoredDocument
from isocnet.documents.receipts import receipt_document_data
from isocnet.documents.renderer import render_pdf
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.models import Payment
from tests.factories import make_customer, make_invoice
from tests.invoicing.billing_helpers import run
from tests.payments.test_collection import card_customer

pytestmark = pytest.mark.django_db


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_batch_renders_each_invoice_once_with_the_bytes_it_would_have_alone(today, settings):
    settings.DOCUMENT_RENDER_THREADS = 3
    invoices = [
        make_invoice(make_customer(name=f"Customer {i}"), [(f"Fiber {i}00", f"{i}9.95", None)])
        for i in range(1, 8)
    ]
    ids = [i.pk for i in invoices]
    assert invoice_pdfs_render(invoice_ids=ids) == 7
    assert invoice_pdfs_render(invoice_ids=ids) == 0  # already stored: nothing rendered again
    for invoice in invoices:
        stored = StoredDocument.objects.get(invoice=invoice, kind="invoice")
        assert bytes(stored.content) == render_invoice_pdf(invoice)  # the one it would be alone
        assert stored.sha256 == hashlib.sha256(bytes(stored.content)).hexdigest()
        assert f"Customer {invoice.customer.name[-1]}" in text(bytes(stored.content))


def test_receipts_are_rendered_by_collection_and_attached_as_stored(smtp):
    customers = [card_customer(price=p) for p in ("49.95", "79.95")]
    run(dt.date(2026, 11, 20))
    deliver_pending()  # the invoice emails
    summary = run(dt.date(2026, 12, 1))  # auto debit
    assert summary.collection["charged"] == 2
    receipts = StoredDocument.objects.filter(kind="receipt")
    assert receipts.count() == 2  # before any receipt email is sent
    for doc in receipts:
        invoice, payment = doc.invoice, Payment.objects.get(pk=doc.payment_id)
        assert bytes(doc.content) == render_pdf(
            "invoice.typ", receipt_document_data(invoice, payment)
        )
        assert "PAID IN FULL" in text(bytes(doc.content))
    deliver_pending()
    sent = [m for m in smtp.messages if m["Subject"] == "Invoice Payment Confirmation"]
    assert len(sent) == 2
    for message in sent:
        (pdf,) = [
            p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"
        ]
        assert hashlib.sha256(pdf.get_content()).hexdigest() in set(
            receipts.values_list("sha256", flat=True)
        )
    assert StoredDocument.objects.filter(kind="receipt").count() == 2  # none rendered twice
    assert OutboxMessage.objects.filter(kind="receipt", status="sent").count() == 2
    assert Invoice.objects.filter(customer__in=customers, status="paid").count() == 2


def test_a_process_whose_main_cannot_be_reimported_renders_on_threads(today, settings, monkeypatch):
    """A shell or a script piped in: worker processes would fail to start
    (they re-import the main module), so the batch is rendered here, the
    same bytes, and no worker is started."""
    import sys

    from isocnet.documents import renderer
    from isocnet.documents.invoices import invoice_document_data

    settings.DOCUMENT_RENDER_PROCESSES = 2
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__spec__", None, raising=False)
    monkeypatch.setattr(main, "__file__", "/nonexistent/<stdin>", raising=False)
    monkeypatch.setattr(renderer, "_pools", {})
    invoice = make_invoice(make_customer(), [("Fiber 100", "49.95", None)])
    data = invoice_document_data(invoice)
    assert renderer.render_many([("invoice.typ", data)] * 3) == [render_invoice_pdf(invoice)] * 3
    assert renderer._pools == {}


def test_a_batch_in_worker_processes_is_the_bytes_rendered_here(today, settings):
    from isocnet.documents import renderer
    from isocnet.documents.invoices import invoice_document_data

    settings.DOCUMENT_RENDER_PROCESSES = 2
    invoices = [
        make_invoice(make_customer(payment_method="check"), [(f"Fiber {i}", "49.95", None)])
        for i in range(4)
    ]
    pdfs = renderer.render_many([("invoice.typ", invoice_document_data(i)) for i in invoices])
    assert pdfs == [render_invoice_pdf(i) for i in invoices]
    assert renderer._pools and not renderer._processes_failed  # made by the workers
