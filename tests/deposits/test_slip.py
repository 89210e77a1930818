"""The scan line on the invoice PDF's remittance slip: printed for check
payers (its QR code is looked at in the rendered page), absent for auto debit, and it reads back to the
invoice it is on."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from isocnet.documents.invoices import render_invoice_pdf
from isocnet.invoicing.scanline import scan_line_in_text
from tests.deposits.helpers import check_payer, slip_of
from tests.factories import make_customer, make_invoice
from tests.portal.conftest import with_card

pytestmark = pytest.mark.django_db
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "deposits"


def test_a_check_payers_slip_carries_the_scan_line_and_its_qr_code(today):
    customer, invoice = check_payer(name="Ada Lovelace")
    pdf = render_invoice_pdf(invoice)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "invoice-with-scan-line.pdf").write_bytes(pdf)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    found = scan_line_in_text(" ".join(text.split()))
    assert str(found) == slip_of(invoice)
    assert (found.account_number, found.invoice_number, found.amount_minor) == (
        customer.account_number,
        invoice.number,
        4995,
    )


def test_auto_debit_invoices_have_no_slip_and_no_scan_line(today):
    customer = make_customer(payment_method="card")
    with_card(customer)
    invoice = make_invoice(customer)
    text = PdfReader(io.BytesIO(render_invoice_pdf(invoice))).pages[0].extract_text()
    assert scan_line_in_text(" ".join(text.split())) is None
    assert "Remittance slip" not in text
