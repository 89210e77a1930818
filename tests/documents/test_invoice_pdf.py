import io

import pytest
from pypdf import PdfReader

from isocnet.documents.invoices import invoice_pdf, render_invoice_pdf
from tests.factories import make_customer, make_invoice

pytestmark = pytest.mark.django_db


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_normal_invoice_is_one_page_with_embedded_fonts(today):
    invoice = make_invoice(
        make_customer(name="Zoë Søren-Łukasiewicz"), [("Fiber 100 Mbps — 1 Main St", "49.95", None)]
    )
    pdf = render_invoice_pdf(invoice)
    (text,) = pages(pdf)
    assert "Zoë Søren-Łukasiewicz" in text
    assert "Page 1 of 1" in text
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        descriptor = (
            ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        )
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor  # embedded


def test_a_long_invoice_flows_over_pages(today):
    lines = [(f"Static IP address 10.0.0.{i}", "10.00", None) for i in range(1, 81)]
    invoice = make_invoice(make_customer(), lines)
    text = pages(render_invoice_pdf(invoice))
    assert len(text) >= 2
    assert all(f"Page {i} of {len(text)}" in page for i, page in enumerate(text, start=1))
    joined = "\n".join(text)
    assert all(f"10.0.0.{i}" in joined for i in range(1, 81))
    assert joined.count("Subtotal") == 1
    assert "$800.00" in text[-1]


def test_the_pdf_is_rendered_once_and_kept(today):
    invoice = make_invoice(make_customer())
    first = invoice_pdf(invoice)
    again = invoice_pdf(invoice)
    assert first.pk == again.pk
    import hashlib

    assert hashlib.sha256(bytes(first.content)).hexdigest() == first.sha256
    assert render_invoice_pdf(invoice) == bytes(first.content)  # deterministic rendering


def test_printed_lines_multiply_out_and_names_keep_their_parentheses(today):
    """Issue #30, item 5: a prorated line of 3 whose unit price is stored
    rounded ($16.11; 3 × 16.11 = 48.33) prints as 1 × $48.34 with the
    quantity in words; the period comes off the description exactly, so a
    plan named "Fiber (business)" keeps its parentheses."""
    import datetime as dt
    from decimal import Decimal

    from isocnet.documents.invoices import _line_row
    from isocnet.invoicing.models import InvoiceLine

    invoice = make_invoice(make_customer())
    line = InvoiceLine(
        invoice=invoice,
        position=9,
        kind="proration",
        description="Fiber (business) (11/20/2026 – 11/30/2026)",
        period_start=dt.date(2026, 11, 20),
        period_end=dt.date(2026, 12, 1),
        quantity=Decimal(3),
        unit_price_minor=1611,
        amount_minor=4834,
    )
    row = _line_row(line)
    assert row["description"] == "Fiber (business)"
    assert (row["quantity"], row["unit_price"], row["amount"]) == ("1", "$48.34", "$48.34")
    assert "3 × prorated" in row["period"]
    whole = _line_row(invoice.lines.get())
    assert (whole["quantity"], whole["unit_price"], whole["amount"]) == ("1", "$49.95", "$49.95")
