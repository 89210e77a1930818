"""Every kind of PDF we send passes ``qpdf --check`` with no warnings
(Debian's qpdf; `make test` installs it), and reads as what it is."""

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from isocnet.documents.credit_notes import credit_note_pdf, refund_pdf
from isocnet.documents.invoices import invoice_pdf
from isocnet.documents.receipts import receipt_pdf
from isocnet.documents.statements import statement_pdf
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.payments.cards import card_attach
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import Receipt
from isocnet.payments.refunds import refund_create
from isocnet.payments.services import payment_record
from isocnet.portal.selectors import statement
from tests.factories import ACTOR, make_customer, make_invoice, make_tax

pytestmark = pytest.mark.django_db
QPDF = shutil.which("qpdf")


def qpdf_check(content: bytes, tmp_path, name: str) -> str:
    assert QPDF, "qpdf is needed (apt-get install qpdf; make test installs it)"
    path = tmp_path / name
    path.write_bytes(content)
    done = subprocess.run([QPDF, "--check", str(path)], capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "WARNING" not in out.upper(), out
    assert "No syntax or stream encoding errors found" in out, out
    return out


def text_of(content: bytes) -> str:
    return " ".join(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
    )


@pytest.fixture
def documents(today):
    check = make_customer(name="Carla Check")
    invoice = make_invoice(
        check, lines=(("Fiber 100 Mbps", "49.95", None), ("Web Hosting", "119.40", make_tax()))
    )
    payment = payment_record(
        actor=ACTOR,
        invoice_number=invoice.number,
        amount="50.00",
        method="check",
        reference="Check 1042",
    ).payment
    note = credit_note_create(
        actor=ACTOR, invoice_number=invoice.number, amount="25.00", reason="Outage on 11/12"
    )
    card = make_customer(name="Cody Card", payment_method="card")
    card_attach(actor=ACTOR, customer_id=card.pk, token="tok_visa")
    paid = make_invoice(card)
    call = charge_invoice(actor=ACTOR, invoice_id=paid.pk)
    refund = refund_create(
        actor=ACTOR,
        payment_id=call.payment_id,
        amount="10.00",
        destination="card",
        reason="Billed twice",
    )
    return {
        "invoice": bytes(invoice_pdf(invoice).content),
        "receipt": bytes(receipt_pdf(invoice, payment).content),
        "credit_note": bytes(credit_note_pdf(note).content),
        "refund": bytes(refund_pdf(refund).content),
        "statement": statement_pdf(statement(check, invoice.issue_date, today)),
        "_facts": (invoice, payment, note),
    }


@pytest.mark.parametrize("kind", ["invoice", "receipt", "credit_note", "refund", "statement"])
def test_every_kind_of_pdf_passes_qpdf_check(documents, kind, tmp_path):
    qpdf_check(documents[kind], tmp_path, f"{kind}.pdf")


def test_a_credit_note_reads_as_a_credit_note(documents):
    invoice, _payment, note = documents["_facts"]
    text = text_of(documents["credit_note"])
    assert "CREDIT NOTE" in text
    assert f"Credit note {note.number}" in text
    assert "Date November 20, 2026" in text
    assert f"Corrects invoice #{invoice.number} of November 20, 2026" in text
    assert "Due date" not in text  # nothing on it is due
    assert "Amount credited $25.00" in text
    assert f"Applied to invoice #{invoice.number} $25.00" in text
    # the invoice's remaining balance, named as the invoice's: 179.20 - 50 - 25
    assert f"Balance of invoice #{invoice.number}: $104.20" in text
    assert "Remittance slip" not in text


def test_receipt_numbers_are_gapless_and_their_own(documents):
    invoice, payment, _note = documents["_facts"]
    numbers = list(Receipt.objects.order_by("sequence").values_list("number", flat=True))
    assert numbers == ["R-2026-000001", "R-2026-000002"]  # the check, then the card charge
    assert Receipt.objects.get(payment=payment).invoice == invoice
