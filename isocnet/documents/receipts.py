"""The receipt PDF: the invoice with the payments received up to and
including one payment, and the balance after it ($0.00 = paid in full)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.documents.invoices import invoice_document_data, invoices_prefetch
from isocnet.documents.models import DocumentKind, StoredDocument
from isocnet.documents.renderer import render_pdf
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import Allocation, CreditEntry, CreditKind, Payment


def receipt_facts(invoice: Invoice, payment: Payment) -> dict:
    """Payments applied to ``invoice`` up to ``payment`` (in order), the
    total paid and the balance after it."""
    return receipts_facts([(invoice, payment)])[(invoice.pk, payment.pk)]


def receipts_facts(pairs: list[tuple[Invoice, Payment]]) -> dict[tuple[int, int], dict]:
    """``receipt_facts`` of each (invoice, payment), keyed by their ids, in
    three queries for all of them."""
    if not pairs:
        return {}
    invoice_ids = {invoice.pk for invoice, _ in pairs}
    # the invoices' allocations by their index, then their payments by key
    # (never a join a planner with stale statistics turns into a payment scan)
    allocations = list(
        Allocation.objects.filter(
            invoice_id__in=invoice_ids, payment_id__lte=max(p.pk for _, p in pairs)
        ).order_by("payment_id", "id")
    )
    payments = Payment.objects.in_bulk({a.payment_id for a in allocations})
    credits = list(
        CreditEntry.objects.filter(
            invoice_id__in=invoice_ids,
            kind=CreditKind.APPLIED,
            created_at__lte=max(p.created_at for _, p in pairs),
        ).order_by("id")
    )
    facts = {}
    for invoice, payment in pairs:
        applied = [
            a
            for a in allocations
            if a.invoice_id == invoice.pk
            and a.payment_id <= payment.pk
            and payments[a.payment_id].status == "succeeded"
        ]
        for a in applied:
            a.payment, a.invoice = payments[a.payment_id], invoice
        used = [
            c for c in credits if c.invoice_id == invoice.pk and c.created_at <= payment.created_at
        ]
        facts[(invoice.pk, payment.pk)] = _facts(invoice, payment, applied, used)
    return facts


def _facts(invoice: Invoice, payment: Payment, allocations: list, credits: list) -> dict:
    zero = Money.zero(invoice.currency)
    rows = [
        {
            "date": formatting.date(a.payment.received_on),
            "method": a.payment.get_method_display(),
            "reference": a.payment.reference or "—",
            "amount": formatting.money(a.amount),
        }
        for a in allocations
    ] + [
        {
            "date": formatting.date(c.created_at.date()),
            "method": "Account credit",
            "reference": c.memo,
            "amount": formatting.money(-c.amount),
        }
        for c in credits
    ]
    paid = sum((a.amount for a in allocations), zero) + sum((-c.amount for c in credits), zero)
    this_payment = sum((a.amount for a in allocations if a.payment_id == payment.pk), zero)
    return {
        "rows": rows,
        "paid": paid,
        "balance": invoice.total - paid,
        "this_payment": this_payment,
    }


def receipt_document_data(invoice: Invoice, payment: Payment, facts: dict | None = None) -> dict:
    """What the receipt PDF shows (``facts``: its ``receipt_facts``, when
    already read)."""
    facts = facts or receipt_facts(invoice, payment)
    data = invoice_document_data(invoice)
    data["doc"] = {**data["doc"], "title": "RECEIPT"}
    data["applied"] = [{"label": "Total paid", "amount": formatting.money(-facts["paid"])}]
    data["balance"] = formatting.money(facts["balance"])
    data["payments"] = facts["rows"]
    if facts["balance"].amount == 0:
        data["stamp"] = "PAID IN FULL"
        data["receipt_balance_line"] = (
            f"Balance: {formatting.money(facts['balance'])} — PAID IN FULL"
        )
    else:
        data["stamp"] = None
        data["receipt_balance_line"] = f"Remaining balance: {formatting.money(facts['balance'])}"
    data["how_to_pay_title"] = "About this receipt"
    data["how_to_pay"] = [
        "This is a receipt: the payments above have been applied to your account. It does not need to be paid.",
    ]
    if facts["balance"].amount:
        data["how_to_pay"].append(
            f"The remaining balance of {formatting.money(facts['balance'])} is due on "
            f"{formatting.date(invoice.due_date)}."
        )
    data["slip"] = None
    return data


def receipt_filename(invoice: Invoice) -> str:
    return f"Receipt-{invoice.number}.pdf"


def receipt_pdf(invoice: Invoice, payment: Payment) -> StoredDocument:
    stored = StoredDocument.objects.filter(
        kind=DocumentKind.RECEIPT, invoice=invoice, payment=payment
    ).first()
    if stored is not None:
        return stored
    content = render_pdf("invoice.typ", receipt_document_data(invoice, payment))
    try:
        with transaction.atomic():
            document = StoredDocument.of(
                content,
                kind=DocumentKind.RECEIPT,
                invoice=invoice,
                payment=payment,
                filename=receipt_filename(invoice),
                created_at=clock.now(),
            )
            document.save(force_insert=True)
            return document
    except IntegrityError:
        return StoredDocument.objects.get(
            kind=DocumentKind.RECEIPT, invoice=invoice, payment=payment
        )


def receipt_pdfs_render(*, payment_ids: list[int]) -> int:
    """Render and store the receipt PDFs of these payments (one per invoice
    each was applied to) that have none yet, ahead of their emails: data read
    here, Typst on DOCUMENT_RENDER_THREADS threads (documents.renderer).
    Returns how many it rendered; safe to run twice or at once."""
    stored = 0
    for start in range(0, len(payment_ids), 50):
        chunk = payment_ids[start : start + 50]
        done = set(
            StoredDocument.objects.filter(
                kind=DocumentKind.RECEIPT, payment_id__in=chunk
            ).values_list("invoice_id", "payment_id")
        )
        pairs = [
            (a.invoice, a.payment)
            for a in Allocation.objects.filter(
                payment_id__in=Payment.objects.filter(pk__in=chunk, status="succeeded")
                .values_list("pk", flat=True)
                .order_by()
            )
            .select_related("invoice__customer", "payment")
            .order_by("payment_id", "id")
            if (a.invoice_id, a.payment_id) not in done
        ]
        invoices_prefetch([invoice for invoice, _ in pairs])
        facts = receipts_facts(pairs)
        stored += StoredDocument.keep_rendered(
            [
                (
                    receipt_document_data(invoice, payment, facts[(invoice.pk, payment.pk)]),
                    {
                        "kind": DocumentKind.RECEIPT,
                        "invoice": invoice,
                        "payment": payment,
                        "filename": receipt_filename(invoice),
                    },
                )
                for invoice, payment in pairs
            ]
        )
    return stored
