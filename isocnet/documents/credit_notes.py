"""The credit note PDF."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.documents.invoices import invoice_document_data
from isocnet.documents.models import DocumentKind, StoredDocument
from isocnet.documents.renderer import render_pdf
from isocnet.invoicing.models import CreditNote


def credit_note_document_data(note: CreditNote) -> dict:
    """What the credit note PDF shows: its own number and date, the invoice
    it corrects, the amount credited and how the credit was used (applied
    to that invoice, kept as account credit), and the invoice's balance
    after it. Nothing on it is due, so it has no due date and no slip."""
    invoice = note.invoice
    data = invoice_document_data(invoice)
    fmt = formatting.money
    amount = fmt(note.amount)
    applied = Money.from_minor(note.applied_minor, note.currency)
    kept = Money.from_minor(note.to_credit_minor, note.currency)
    data["doc"] = {
        **data["doc"],
        "title": "CREDIT NOTE",
        "number_label": "Credit note",
        "number": note.number,
        "date_label": "Date",
        "issue_date": formatting.date(note.issue_date),
        "due_date": "",
        "extra": [
            {
                "label": "Corrects invoice",
                "value": f"#{invoice.number} of {formatting.date(invoice.issue_date)}",
            }
        ],
    }
    data["bill_to_label"] = "CREDIT TO"
    data["lines"] = [
        {
            "description": f"Credit for invoice #{invoice.number}: {note.reason}",
            "period": "",
            "quantity": "1",
            "unit_price": amount,
            "amount": amount,
        }
    ]
    data["subtotal"] = amount
    data["taxes"] = []
    data["total_label"] = "Amount credited"
    data["total"] = amount
    data["applied"] = []
    data["balance"] = None
    used = []
    if applied.minor():
        used.append({"label": f"Applied to invoice #{invoice.number}", "amount": fmt(applied)})
    if kept.minor():
        used.append(
            {
                "label": "Kept as account credit (it pays your next invoices)",
                "amount": fmt(kept),
            }
        )
    data["used"] = used
    # the invoice's balance when the note is rendered: once, for its email, and stored
    after = invoice.balance
    data["invoice_balance_line"] = f"Balance of invoice #{invoice.number}: {fmt(after)}"
    data["stamp"] = None
    data["how_to_pay_title"] = "About this credit note"
    data["how_to_pay"] = [
        f"This credit note reduces what you owe on invoice #{invoice.number}; nothing is to be "
        f"paid on it. After it, the balance of invoice #{invoice.number} is {fmt(after)}."
    ]
    data["slip"] = None
    return data


def credit_note_pdf(note: CreditNote) -> StoredDocument:
    stored = StoredDocument.objects.filter(credit_note=note).first()
    if stored is not None:
        return stored
    content = render_pdf("invoice.typ", credit_note_document_data(note))
    try:
        with transaction.atomic():
            return StoredDocument.objects.create(
                kind=DocumentKind.CREDIT_NOTE,
                invoice=note.invoice,
                credit_note=note,
                filename=f"CreditNote-{note.number}.pdf",
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                created_at=clock.now(),
            )
    except IntegrityError:
        return StoredDocument.objects.get(credit_note=note)


def refund_pdf(refund) -> StoredDocument:
    """The refund confirmation PDF, stored as sent (one per refund message)."""
    payment = refund.payment
    invoice = payment.allocations.select_related("invoice").order_by("-id").first().invoice
    data = invoice_document_data(invoice)
    amount = formatting.money(refund.amount)
    data["doc"] = {
        **data["doc"],
        "title": "REFUND",
        "number_label": "Refund",
        "number": f"RF-{refund.pk:06d}",
        "date_label": "Date",
        "issue_date": formatting.date(
            clock.localdate(refund.completed_at) if refund.completed_at else None
        ),
        "due_date": "",
        "extra": [{"label": "Invoice", "value": f"#{invoice.number}"}],
    }
    data["bill_to_label"] = "REFUND TO"
    data["lines"] = [
        {
            "description": f"Refund of your payment of {formatting.date(payment.received_on)} "
            f"({payment.reference or payment.get_method_display()}): {refund.reason}",
            "period": "",
            "quantity": "1",
            "unit_price": amount,
            "amount": amount,
        }
    ]
    data.update(
        subtotal=amount,
        taxes=[],
        total=amount,
        applied=[],
        stamp="REFUNDED",
        slip=None,
        balance=formatting.money(invoice.balance),
        balance_label=f"Balance of invoice #{invoice.number}",
        total_label="Amount refunded",
        how_to_pay_title="About this refund",
        how_to_pay=[
            f"{amount} has been returned to your {payment.reference or 'card'}. "
            f"The balance of invoice #{invoice.number} is now {formatting.money(invoice.balance)}."
        ],
    )
    content = render_pdf("invoice.typ", data)
    return StoredDocument.objects.create(
        kind=DocumentKind.REFUND,
        invoice=invoice,
        payment=payment,
        filename=f"Refund-RF-{refund.pk:06d}.pdf",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        created_at=clock.now(),
    )
