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
    invoice = note.invoice
    data = invoice_document_data(invoice)
    amount = formatting.money(note.amount)
    data["doc"] = {
        **data["doc"],
        "title": "CREDIT NOTE",
        "number_label": "Credit note",
        "number": note.number,
        "issue_date": formatting.date(note.issue_date),
    }
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
    data["total"] = amount
    applied = [
        {
            "label": f"Applied to invoice #{invoice.number}",
            "amount": formatting.money(Money.from_minor(note.applied_minor, note.currency)),
        }
    ]
    if note.to_credit_minor:
        applied.append(
            {
                "label": "Added to your account credit",
                "amount": formatting.money(Money.from_minor(note.to_credit_minor, note.currency)),
            }
        )
    data["applied"] = applied
    data["balance"] = formatting.money(invoice.balance)
    data["stamp"] = None
    data["how_to_pay_title"] = "About this credit note"
    data["how_to_pay"] = [
        f"This credit note reduces what you owe on invoice #{invoice.number}. Nothing is to be paid "
        f"on it. The balance of invoice #{invoice.number} is now {formatting.money(invoice.balance)}."
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
        "number": f"R-{refund.pk:06d}",
        "issue_date": formatting.date(refund.completed_at.date() if refund.completed_at else None),
    }
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
        filename=f"Refund-R-{refund.pk:06d}.pdf",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        created_at=clock.now(),
    )
